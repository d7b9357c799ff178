import type { EngineEvent } from "./event.js";

/**
 * A per-key sliding window of matching events in event time, for threshold correlations
 * (count, distinct, sum, avg, min, max). Entries are ordered by (ts, seq); an entry leaves
 * when it is older than the newest entry minus the window. Window edges are inclusive: events
 * at t and t + D are within D of each other.
 */

export interface WindowEntry {
  readonly ts: number;
  readonly seq: number;
  readonly event: EngineEvent;
  /** The aggregated value: a distinct key, or a number for sum/avg/min/max. */
  readonly value: string | number | undefined;
}

/** What a window aggregates: nothing beyond the entries (count), numbers, or distinct values. */
export type WindowKind = "count" | "number" | "distinct";

/** Below this many entries, arrays grow to their exact size (most keys hold a few entries). */
const SMALL = 16;
/** A distinct window counts its values in a map once it holds more entries than this. */
const DISTINCT_SMALL = 8;

/**
 * One key's window, flat: the entries live in parallel arrays (time and position interleaved
 * in one array of numbers, the events, the aggregated values) rather than one object per
 * entry; small arrays are exactly sized. The window also carries its key and the key's
 * values, and the time of its entry in the rule's expiry queue, so that the queue can point at
 * the window itself.
 */
export class SlidingWindow {
  /** (ts, seq) of each entry, interleaved: entry i is at 2i, 2i + 1. */
  private tq: number[] = [];
  private ev: EngineEvent[] = [];
  /** Aggregated values (numbers or distinct keys), parallel to `ev`; unused by a count. */
  private vals: (string | number)[] | undefined;
  /** First live entry (entries before it were evicted); -1 once the window is dropped. */
  private head = 0;
  private sum = 0;
  /** Occurrences of each value in the window, for a distinct window with many entries. */
  private counts: Map<string | number, number> | undefined;
  private readonly distinct: boolean;

  constructor(
    kind: WindowKind,
    /** The key in the rules' shared map of keys, and its slots there. */
    readonly key: string,
    readonly slots: (SlidingWindow | undefined)[],
    /** The key's values: the value itself for a single by-field, else the array of values. */
    readonly keyValues: unknown,
    /** Event time of this window's latest entry in the expiry queue. */
    public queuedAt: number,
  ) {
    if (kind !== "count") this.vals = [];
    this.distinct = kind === "distinct";
  }

  /** The window was dropped from its rule (its entries in the expiry queue are stale). */
  get dropped(): boolean {
    return this.head < 0;
  }

  drop(): void {
    this.head = -1;
    this.tq = [];
    this.ev = [];
    this.vals = undefined;
    this.counts = undefined;
  }

  get size(): number {
    return this.ev.length - this.head;
  }

  get newestTs(): number {
    const n = this.ev.length;
    return n === 0 || n === this.head ? -Infinity : (this.tq[2 * n - 2] as number);
  }

  /** Adds an entry (keeping (ts, seq) order for late arrivals) and evicts what fell out of the window. */
  add(ev: EngineEvent, value: string | number | undefined, windowMs: number): void {
    const ts = ev.ts;
    const seq = ev.seq;
    const tq = this.tq;
    const n = this.ev.length;
    let i = n;
    while (i > this.head) {
      const t = tq[2 * i - 2] as number;
      if (ts < t || (ts === t && seq < (tq[2 * i - 1] as number))) i--;
      else break;
    }
    const vals = this.vals;
    if (i === n) {
      if (n < SMALL) {
        // Exactly sized: `concat` allocates the result's length, `push` would reserve 16 more slots.
        this.tq = tq.concat(ts, seq);
        this.ev = this.ev.concat(ev);
        if (vals !== undefined) this.vals = vals.concat(value as string | number);
      } else {
        tq.push(ts, seq);
        this.ev.push(ev);
        if (vals !== undefined) vals.push(value as string | number);
      }
    } else {
      tq.splice(2 * i, 0, ts, seq);
      this.ev.splice(i, 0, ev);
      if (vals !== undefined) vals.splice(i, 0, value as string | number);
    }
    if (vals !== undefined) {
      if (this.distinct) {
        if (this.counts !== undefined) this.counts.set(value as string | number, (this.counts.get(value as string | number) ?? 0) + 1);
        else if (this.ev.length - this.head > DISTINCT_SMALL) this.countAll();
      } else this.sum += value as number;
    }
    this.evictBefore(this.newestTs - windowMs);
  }

  private countAll(): void {
    const counts = new Map<string | number, number>();
    const vals = this.vals as (string | number)[];
    for (let i = this.head; i < vals.length; i++) counts.set(vals[i] as string | number, (counts.get(vals[i] as string | number) ?? 0) + 1);
    this.counts = counts;
  }

  /** Drops entries with ts < cutoff. */
  evictBefore(cutoff: number): void {
    const tq = this.tq;
    const n = this.ev.length;
    let h = this.head;
    if (h >= n || (tq[2 * h] as number) >= cutoff) return;
    const vals = this.vals;
    while (h < n && (tq[2 * h] as number) < cutoff) {
      if (vals !== undefined) {
        const old = vals[h] as string | number;
        if (!this.distinct) this.sum -= old as number;
        else if (this.counts !== undefined) {
          const c = (this.counts.get(old) ?? 1) - 1;
          if (c === 0) this.counts.delete(old);
          else this.counts.set(old, c);
        }
      }
      h++;
    }
    this.head = h;
    if (n <= 2 * SMALL) {
      // Small: move the live entries to the front in place; shortening the arrays trims them.
      const ev = this.ev;
      const m = n - h;
      for (let i = 0; i < m; i++) {
        tq[2 * i] = tq[2 * (i + h)] as number;
        tq[2 * i + 1] = tq[2 * (i + h) + 1] as number;
        ev[i] = ev[i + h] as EngineEvent;
        if (vals !== undefined) vals[i] = vals[i + h] as string | number;
      }
      tq.length = 2 * m;
      ev.length = m;
      if (vals !== undefined) vals.length = m;
      this.head = 0;
    } else if (h * 2 > n) {
      this.tq = tq.slice(2 * h);
      this.ev = this.ev.slice(h);
      if (vals !== undefined) this.vals = vals.slice(h);
      this.head = 0;
    }
    if (this.counts !== undefined && this.ev.length - this.head <= DISTINCT_SMALL) this.counts = undefined;
  }

  distinctCount(): number {
    if (this.counts !== undefined) return this.counts.size;
    const vals = this.vals;
    if (vals === undefined) return 0;
    let c = 0;
    outer: for (let i = this.head; i < vals.length; i++) {
      const v = vals[i];
      // SameValueZero, as a Map counts them.
      for (let j = this.head; j < i; j++) if (vals[j] === v || (v !== v && vals[j] !== vals[j])) continue outer;
      c++;
    }
    return c;
  }

  total(): number {
    return this.sum;
  }

  min(): number {
    let m = Infinity;
    const vals = this.vals as number[];
    for (let i = this.head; i < vals.length; i++) m = Math.min(m, vals[i] as number);
    return m;
  }

  max(): number {
    let m = -Infinity;
    const vals = this.vals as number[];
    for (let i = this.head; i < vals.length; i++) m = Math.max(m, vals[i] as number);
    return m;
  }

  /** The entries, oldest first (built on demand: when the rule fires, for snapshots). */
  entries(): WindowEntry[] {
    const out: WindowEntry[] = [];
    for (let i = Math.max(0, this.head); i < this.ev.length; i++)
      out.push({ ts: this.tq[2 * i] as number, seq: this.tq[2 * i + 1] as number, event: this.ev[i] as EngineEvent, value: this.vals?.[i] });
    return out;
  }
}
