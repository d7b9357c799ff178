import { type CompiledFirstSeen, type KeySpec, keyText } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";
import type { EventDecoder, EventEncoder } from "../snapshot-codec.js";
import { type KeyIndex, SlotMap } from "../state/key-index.js";
import { PairHeap } from "../state/pair-heap.js";
import { type Correlator, entryOf, type Firing, firstScalar, KEY_SEP, keyCombinations, type KeyStore, keyString, soleKey } from "./types.js";

/** Between a key and a value in a snapshot's text of a (key, value) pair. */
const SEP2 = KEY_SEP + KEY_SEP;

/** Values of a key beyond the first kept in a flat array up to this many, then in a map. */
const REST_MAX = 8;

/** Value texts `FirstSeenCorrelator.kept` remembers before it starts over. */
const TEXTS_MAX = 4096;

/** What a forgotten key holds (shared, never written: no flag per key). */
const FORGOTTEN = new Map<string, number>();

/**
 * The values one key has seen, each with the time it was last seen (relative to the
 * correlator's base time: a small integer, stored unboxed). The first inline (most keys see
 * one value), a few more in a flat array [value, time, value, time, ...], more than that in a
 * map. No text is built per event: a value is compared with the ones the key holds.
 */
class SeenValues {
  private one: string;
  private oneAt: number;
  private rest: (string | number)[] | Map<string, number> | undefined;

  constructor(
    readonly key: string,
    value: string,
    at: number,
  ) {
    this.one = value;
    this.oneAt = at;
  }

  /** False once the key was forgotten (its timers are then stale). */
  get live(): boolean {
    return this.rest !== FORGOTTEN;
  }

  /** The key was forgotten: it holds nothing from now on. */
  forget(): void {
    this.rest = FORGOTTEN;
    this.one = "";
  }

  get size(): number {
    const r = this.rest;
    if (r === FORGOTTEN) return 0;
    return 1 + (r === undefined ? 0 : Array.isArray(r) ? r.length / 2 : r.size);
  }

  /** When `value` was last seen (relative time), or undefined when it was not (or was forgotten). */
  last(value: string): number | undefined {
    if (value === this.one && this.rest !== FORGOTTEN) return this.oneAt;
    const r = this.rest;
    if (r === undefined) return undefined;
    if (!Array.isArray(r)) return r.get(value);
    for (let i = 0; i < r.length; i += 2) if (r[i] === value) return r[i + 1] as number;
    return undefined;
  }

  /** Sets the time `value` was last seen (adding it when new; never on a forgotten key). */
  set(value: string, at: number): void {
    if (value === this.one) {
      this.oneAt = at;
      return;
    }
    const r = this.rest;
    if (r === undefined) this.rest = [value, at];
    else if (!Array.isArray(r)) r.set(value, at);
    else {
      for (let i = 0; i < r.length; i += 2)
        if (r[i] === value) {
          r[i + 1] = at;
          return;
        }
      if (r.length < 2 * REST_MAX) r.push(value, at);
      else {
        const m = new Map<string, number>();
        for (let i = 0; i < r.length; i += 2) m.set(r[i] as string, r[i + 1] as number);
        m.set(value, at);
        this.rest = m;
      }
    }
  }

  /** Forgets `value`; true when it was there. (The last value is never deleted: the key goes instead.) */
  delete(value: string): boolean {
    const r = this.rest;
    if (r === undefined || r === FORGOTTEN) return false;
    if (value === this.one) {
      // Another value moves inline.
      if (Array.isArray(r)) {
        this.oneAt = r.pop() as number;
        this.one = r.pop() as string;
        if (r.length === 0) this.rest = undefined;
      } else {
        const [v, at] = r.entries().next().value as [string, number];
        r.delete(v);
        this.one = v;
        this.oneAt = at;
      }
      return true;
    }
    if (!Array.isArray(r)) return r.delete(value);
    for (let i = 0; i < r.length; i += 2)
      if (r[i] === value) {
        r.splice(i, 2);
        if (r.length === 0) this.rest = undefined;
        return true;
      }
    return false;
  }

  /** (value, relative time) pairs. */
  *pairs(): Generator<[string, number]> {
    const r = this.rest;
    if (r === FORGOTTEN) return;
    yield [this.one, this.oneAt];
    if (r === undefined) return;
    if (!Array.isArray(r)) yield* r;
    else for (let i = 0; i < r.length; i += 2) yield [r[i] as string, r[i + 1] as number];
  }
}

/**
 * `first seen f[, f] [by keys] [learning D]`: fires the first time a value (tuple) is seen for
 * a key. Nothing fires during the learning period, which starts at the first event the rule
 * matches. What was seen is remembered for `ttl` after it was last seen, and at most
 * `maxKeys` (key, value) pairs (oldest forgotten first, counted). State is per key (in the
 * map of keys shared with the rules keyed alike, when given), each key holding its values.
 */
export class FirstSeenCorrelator implements Correlator {
  private readonly keys: KeyStore<SeenValues>;
  /**
   * Event time that the times kept are relative to (the first pair's), so that they stay small
   * integers for weeks of event time (later ones are stored boxed, as any time would be).
   */
  private base: number | undefined;
  /** One timer per (key, value) pair when it was added or re-armed: the pair's last time + ttl (relative). */
  private readonly expiry = new PairHeap<SeenValues, string>();
  /** (key, value) pairs remembered. */
  private count = 0;
  /** Value texts, one copy each (see `kept`). */
  private readonly texts = new Map<string, string>();
  private learningEnds: number | undefined;

  constructor(
    private readonly corr: CompiledFirstSeen,
    private readonly fire: (f: Firing) => void,
    private readonly ttlMs: number,
    private readonly maxKeys: number,
    private readonly onEvict: () => void,
    /** A map of keys shared with the rules keyed alike (else the rule keeps its own). */
    index?: KeyIndex<unknown>,
  ) {
    this.keys = index === undefined ? new Map() : new SlotMap(index, index.addSlot());
  }

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
      this.seenPair(key, valueKey, undefined, values, ev);
      return;
    }
    for (const keyValues of keyCombinations(this.corr.by, ev)) this.seenPair(keyString(keyValues), valueKey, keyValues, values, ev);
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
  private seenPair(key: string, valueKey: string, keyValues: readonly unknown[] | undefined, values: unknown[] | undefined, ev: EngineEvent): void {
    const at = ev.ts - (this.base ??= ev.ts);
    let rec = this.keys.get(key, ev);
    if (rec !== undefined) {
      const last = rec.last(valueKey);
      if (last !== undefined) {
        if (at > last) rec.set(valueKey, at); // its timer is re-armed when it comes due
        return;
      }
    }
    if (this.count >= this.maxKeys) {
      this.evictOne();
      if (rec !== undefined && !rec.live) rec = undefined;
    }
    valueKey = this.kept(valueKey);
    if (rec === undefined) {
      // The map's copy of the key's text, when it holds the key for other rules already.
      rec = new SeenValues(this.keys instanceof SlotMap ? this.keys.canonical(key, ev) : key, valueKey, at);
      this.keys.set(key, rec, ev);
    } else rec.set(valueKey, at);
    this.count++;
    this.expiry.push(at + this.ttlMs, rec, valueKey);
    if (ev.ts < (this.learningEnds as number)) return;
    const vals: readonly unknown[] = values ?? this.valuesOf(ev) ?? [];
    const kv: readonly unknown[] = keyValues ?? keyCombinations(this.corr.by, ev)[0] ?? [];
    const extraKeys: Record<string, unknown> = {};
    this.corr.fields.forEach((f, i) => (extraKeys[f.path] = vals[i]));
    this.fire({ at: ev.ts, trigger: ev, keyValues: [...kv, ...vals], keyPaths: this.corr.by, entries: [entryOf(ev)], extraKeys });
  }

  /**
   * One copy of each value's text for the pairs that hold it: first-seen values are mostly few
   * (countries, user agents, process names, ports) and each event decoded from a stream brings
   * its own copy. The table forgets all it holds when it is full (the copies kept by pairs stay).
   */
  private kept(value: string): string {
    const known = this.texts.get(value);
    if (known !== undefined) return known;
    if (this.texts.size >= TEXTS_MAX) this.texts.clear();
    this.texts.set(value, value);
    return value;
  }

  /** Forgets a pair (its key when it was the key's last value); false when it was not remembered. */
  private forget(rec: SeenValues, value: string): boolean {
    if (!rec.live || rec.last(value) === undefined) return false;
    if (rec.size === 1) {
      rec.forget();
      this.keys.delete(rec.key);
    } else rec.delete(value);
    this.count--;
    return true;
  }

  advance(watermark: number): void {
    const heap = this.expiry;
    const wm = watermark - (this.base ?? 0);
    while (heap.peekTime() < wm && heap.pop()) {
      const rec = heap.owner as SeenValues;
      const value = heap.value as string;
      const last = rec.live ? rec.last(value) : undefined;
      if (last === undefined) continue;
      if (last + this.ttlMs === heap.time) this.forget(rec, value);
      else heap.push(last + this.ttlMs, rec, value);
    }
  }

  /** Forgets the pair whose timer is earliest (the per-rule cap), counting it. */
  private evictOne(): void {
    const heap = this.expiry;
    while (heap.pop()) {
      if (this.forget(heap.owner as SeenValues, heap.value as string)) {
        this.onEvict();
        return;
      }
    }
  }

  liveKeys(): number {
    return this.count;
  }

  /** Pairs as `key SEP SEP value` texts (the format that kept them in one map before). */
  snapshot(_enc: EventEncoder): unknown {
    const base = this.base ?? 0;
    const seen: [string, number][] = [];
    for (const [, rec] of this.keys) for (const [value, t] of rec.pairs()) seen.push([rec.key + SEP2 + value, base + t]);
    const expiry = this.expiry.entries().flatMap(([t, rec, value]) => (rec.live ? [[base + t, rec.key + SEP2 + value]] : []));
    return { learningEnds: this.learningEnds ?? null, seen, expiry };
  }

  restore(data: unknown, _dec: EventDecoder): void {
    const d = data as { learningEnds: number | null; seen: [string, number][]; expiry: [number, string][] };
    this.learningEnds = d.learningEnds ?? undefined;
    this.keys.clear();
    this.count = 0;
    const base = (this.base = d.seen[0]?.[1]);
    if (base === undefined) return;
    for (const [pair, t] of d.seen) {
      const [key, value] = splitPair(pair);
      const rec = this.keys.get(key);
      if (rec === undefined) this.keys.set(key, new SeenValues(key, value, t - base));
      else if (rec.last(value) === undefined) rec.set(value, t - base);
      else continue;
      this.count++;
    }
    for (const [t, pair] of d.expiry) {
      const [key, value] = splitPair(pair);
      const rec = this.keys.get(key);
      if (rec !== undefined) this.expiry.push(t - base, rec, value);
    }
  }
}

/** A snapshot's pair text back into key and value (split at the first double separator). */
function splitPair(pair: string): [string, string] {
  const i = pair.indexOf(SEP2);
  return i < 0 ? [pair, ""] : [pair.slice(0, i), pair.slice(i + SEP2.length)];
}
