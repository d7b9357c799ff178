import type { CompiledFirstSeen } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";
import type { EventDecoder, EventEncoder } from "../snapshot-codec.js";
import { MinHeap } from "../state/min-heap.js";
import { type Correlator, entryOf, type Firing, firstScalar, KEY_SEP, keyCombinations, keyString } from "./types.js";
import { evictEarliest } from "./types.js";

/**
 * `first seen f[, f] [by keys] [learning D]`: fires the first time a value (tuple) is seen for
 * a key. Nothing fires during the learning period, which starts at the first event the rule
 * matches. What was seen is remembered for `ttl` after it was last seen, and at most
 * `maxKeys` (key, value) pairs (oldest forgotten first, counted).
 */
export class FirstSeenCorrelator implements Correlator {
  private readonly seen = new Map<string, number>();
  private readonly expiry = new MinHeap<string>();
  private learningEnds: number | undefined;

  constructor(
    private readonly corr: CompiledFirstSeen,
    private readonly fire: (f: Firing) => void,
    private readonly ttlMs: number,
    private readonly maxKeys: number,
    private readonly onEvict: () => void,
  ) {}

  onMatch(ev: EngineEvent): void {
    this.learningEnds ??= ev.ts + this.corr.learningMs;
    const values: unknown[] = [];
    for (const f of this.corr.fields) {
      const v = firstScalar(f.read(ev.fields));
      if (v === undefined || v === null || v === "") return;
      values.push(v);
    }
    const valueKey = keyString(values);
    for (const keyValues of keyCombinations(this.corr.by, ev)) {
      const key = `${keyString(keyValues)}${KEY_SEP}${KEY_SEP}${valueKey}`;
      const last = this.seen.get(key);
      if (last !== undefined) {
        if (ev.ts > last) this.seen.set(key, ev.ts); // its expiry entry is re-armed when it comes due
        continue;
      }
      if (this.seen.size >= this.maxKeys) this.evictOne();
      this.seen.set(key, ev.ts);
      this.expiry.push(ev.ts + this.ttlMs, key);
      if (ev.ts < this.learningEnds) continue;
      const extraKeys: Record<string, unknown> = {};
      this.corr.fields.forEach((f, i) => (extraKeys[f.path] = values[i]));
      this.fire({ at: ev.ts, trigger: ev, keyValues: [...keyValues, ...values], keyPaths: this.corr.by, entries: [entryOf(ev)], extraKeys });
    }
  }

  advance(watermark: number): void {
    while (this.expiry.peekTime() < watermark) {
      const due = this.expiry.pop();
      if (due === undefined) break;
      const last = this.seen.get(due.key);
      if (last === undefined) continue;
      if (last + this.ttlMs === due.time) this.seen.delete(due.key);
      else this.expiry.push(last + this.ttlMs, due.key);
    }
  }

  private evictOne(): void {
    evictEarliest(this.expiry, this.seen, this.onEvict);
  }

  liveKeys(): number {
    return this.seen.size;
  }

  snapshot(_enc: EventEncoder): unknown {
    return { learningEnds: this.learningEnds ?? null, seen: [...this.seen], expiry: this.expiry.entries() };
  }

  restore(data: unknown, _dec: EventDecoder): void {
    const d = data as { learningEnds: number | null; seen: [string, number][]; expiry: [number, string][] };
    this.learningEnds = d.learningEnds ?? undefined;
    this.seen.clear();
    for (const [k, t] of d.seen) this.seen.set(k, t);
    for (const [t, k] of d.expiry) this.expiry.push(t, k);
  }
}
