import type { CompiledAbsent } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";
import type { EventDecoder, EventEncoder } from "../snapshot-codec.js";
import { MinHeap } from "../state/min-heap.js";
import { type KeyIndex, SlotMap } from "../state/key-index.js";
import { type Correlator, entryOf, type Firing, keyCombinations, type KeyStore, keyString, soleKey } from "./types.js";
import { evictEarliest } from "./types.js";

interface Seen {
  readonly values: readonly unknown[];
  last: EngineEvent;
}

/**
 * `absent for D by keys`: a key that matched goes quiet. Each key's deadline is its last
 * event time + D; when the watermark reaches a deadline with no newer event for the key, the
 * rule fires once (evidence: the last event) and forgets the key until it is seen again.
 */
export class AbsentCorrelator implements Correlator {
  private readonly keys: KeyStore<Seen>;
  private readonly deadlines = new MinHeap<string>();

  constructor(
    private readonly corr: CompiledAbsent,
    private readonly fire: (f: Firing) => void,
    private readonly maxKeys: number,
    private readonly onEvict: () => void,
    /** A map of keys shared with the rules keyed alike (else the rule keeps its own). */
    index?: KeyIndex<unknown>,
  ) {
    this.keys = index === undefined ? new Map() : new SlotMap(index, index.addSlot());
  }

  onMatch(ev: EngineEvent): void {
    const key = soleKey(this.corr.by, ev);
    if (key === null) return;
    if (key !== undefined) {
      this.seenKey(key, undefined, ev);
      return;
    }
    for (const values of keyCombinations(this.corr.by, ev)) this.seenKey(keyString(values), values, ev);
  }

  /** `values`: the key's values, when already known (else read from the event, for a new key). */
  private seenKey(key: string, values: readonly unknown[] | undefined, ev: EngineEvent): void {
    const seen = this.keys.get(key, ev);
    if (seen === undefined) {
      if (this.keys.size >= this.maxKeys) this.evictOne();
      this.keys.set(key, { values: values ?? (keyCombinations(this.corr.by, ev)[0] as unknown[]), last: ev }, ev);
      // One timer per key: when it comes due after the key was seen again, it is re-armed.
      this.deadlines.push(ev.ts + this.corr.forMs, key);
    } else if (ev.ts > seen.last.ts || (ev.ts === seen.last.ts && ev.seq > seen.last.seq)) {
      if (ev.ts - seen.last.ts > this.corr.forMs) {
        // The key came back after a silence longer than D that the watermark had not yet
        // confirmed: the silence happened, so it fires (at the end of the quiet period).
        const quiet = seen.last;
        seen.last = ev;
        this.fire({ at: quiet.ts + this.corr.forMs, trigger: quiet, keyValues: values ?? (keyCombinations(this.corr.by, ev)[0] as unknown[]), keyPaths: this.corr.by, entries: [entryOf(quiet)] });
      } else seen.last = ev;
    }
  }

  advance(watermark: number): void {
    // Strictly before: an event dated exactly at the watermark may still arrive.
    while (this.deadlines.peekTime() < watermark) {
      const due = this.deadlines.pop();
      if (due === undefined) break;
      const seen = this.keys.get(due.key);
      if (seen === undefined) continue;
      const deadline = seen.last.ts + this.corr.forMs;
      if (deadline !== due.time) {
        this.deadlines.push(deadline, due.key); // seen again since: re-arm
        continue;
      }
      this.keys.delete(due.key);
      this.fire({ at: due.time, trigger: seen.last, keyValues: seen.values, keyPaths: this.corr.by, entries: [entryOf(seen.last)] });
    }
  }

  private evictOne(): void {
    evictEarliest(this.deadlines, this.keys, this.onEvict);
  }

  liveKeys(): number {
    return this.keys.size;
  }

  snapshot(enc: EventEncoder): unknown {
    return {
      keys: [...this.keys].map(([k, s]) => [k, s.values, enc.ref(s.last)]),
      deadlines: this.deadlines.entries(),
    };
  }

  restore(data: unknown, dec: EventDecoder): void {
    const d = data as { keys: [string, unknown[], number][]; deadlines: [number, string][] };
    this.keys.clear();
    for (const [k, values, last] of d.keys) this.keys.set(k, { values, last: dec.get(last) });
    for (const [t, k] of d.deadlines) this.deadlines.push(t, k);
  }
}
