import { type CompiledFirstSeen, type KeySpec, keyText } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";
import type { EventDecoder, EventEncoder } from "../snapshot-codec.js";
import { MinHeap } from "../state/min-heap.js";
import { type Correlator, entryOf, type Firing, firstScalar, KEY_SEP, keyCombinations, keyString, soleKey } from "./types.js";
import { evictEarliest } from "./types.js";

const SEP2 = KEY_SEP + KEY_SEP;

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
    const fields = this.corr.fields;
    let valueKey: string;
    let values: unknown[] | undefined;
    if (fields.length === 1) {
      const v = firstScalar((fields[0] as KeySpec).read(ev.fields));
      if (v === undefined || v === null || v === "") return;
      valueKey = typeof v === "string" ? v : keyText(v);
    } else {
      values = this.valuesOf(ev);
      if (values === undefined) return;
      valueKey = keyString(values);
    }
    const key = soleKey(this.corr.by, ev);
    if (key === null) return;
    if (key !== undefined) {
      this.seenKey(key + SEP2 + valueKey, undefined, values, ev);
      return;
    }
    for (const keyValues of keyCombinations(this.corr.by, ev)) this.seenKey(keyString(keyValues) + SEP2 + valueKey, keyValues, values, ev);
  }

  /** The first-seen fields' values on `ev`, or undefined when one is missing. */
  private valuesOf(ev: EngineEvent): unknown[] | undefined {
    const values: unknown[] = [];
    for (const f of this.corr.fields) {
      const v = firstScalar(f.read(ev.fields));
      if (v === undefined || v === null || v === "") return undefined;
      values.push(v);
    }
    return values;
  }

  /** `keyValues`, `values`: when already known (else read from the event when it fires). */
  private seenKey(key: string, keyValues: readonly unknown[] | undefined, values: unknown[] | undefined, ev: EngineEvent): void {
    const last = this.seen.get(key);
    if (last !== undefined) {
      if (ev.ts > last) this.seen.set(key, ev.ts); // its expiry entry is re-armed when it comes due
      return;
    }
    if (this.seen.size >= this.maxKeys) this.evictOne();
    this.seen.set(key, ev.ts);
    this.expiry.push(ev.ts + this.ttlMs, key);
    if (ev.ts < (this.learningEnds as number)) return;
    const vals: readonly unknown[] = values ?? this.valuesOf(ev) ?? [];
    const kv: readonly unknown[] = keyValues ?? keyCombinations(this.corr.by, ev)[0] ?? [];
    const extraKeys: Record<string, unknown> = {};
    this.corr.fields.forEach((f, i) => (extraKeys[f.path] = vals[i]));
    this.fire({ at: ev.ts, trigger: ev, keyValues: [...kv, ...vals], keyPaths: this.corr.by, entries: [entryOf(ev)], extraKeys });
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
