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

/** A distinct window counts its values in a map once it holds more entries than this. */
const DISTINCT_SMALL = 8;

/**
 * One key's window, flat: the entries live in parallel arrays (time and position interleaved
 * in one array of numbers, stored unboxed; the events; the aggregated values) rather than one
 * object per entry. The arrays have a capacity that doubles as entries arrive (no allocation
 * per entry) and shrinks when a window empties out. The window also carries its key, the key's
 * values and the time of its entry in the rule's expiry queue, so that the queue can point at
 * the window itself.
 */
export class SlidingWindow {
  /** (ts, seq) of each entry, interleaved: entry i is at 2i, 2i + 1. */
  private tq: number[] = EMPTY_NUMBERS;
  private ev: (EngineEvent | undefined)[] = [];
  /** Aggregated values (numbers or distinct keys), parallel to `ev`; unused by a count. */
  private vals: (string | number)[] | undefined;
  /** Live entries are [head, end); head is -1 once the window is dropped. */
  private head = 0;
  private end = 0;
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
    this.end = -1;
    this.tq = EMPTY_NUMBERS;
    this.ev = [];
    this.vals = undefined;
    this.counts = undefined;
  }

  get size(): number {
    return this.end - this.head;
  }

  get newestTs(): number {
    return this.end === this.head ? -Infinity : (this.tq[2 * this.end - 2] as number);
  }

  /** Adds an entry (keeping (ts, seq) order for late arrivals) and evicts what fell out of the window. */
  add(ev: EngineEvent, value: string | number | undefined, windowMs: number): void {
    const ts = ev.ts;
    const seq = ev.seq;
    if (this.end === this.ev.length) this.makeRoom();
    const tq = this.tq;
    const evs = this.ev;
    const vals = this.vals;
    let i = this.end;
    while (i > this.head) {
      const t = tq[2 * i - 2] as number;
      if (ts < t || (ts === t && seq < (tq[2 * i - 1] as number))) {
        // A late entry: move the newer one up.
        tq[2 * i] = t;
        tq[2 * i + 1] = tq[2 * i - 1] as number;
        evs[i] = evs[i - 1];
        if (vals !== undefined) vals[i] = vals[i - 1] as string | number;
        i--;
      } else break;
    }
    tq[2 * i] = ts;
    tq[2 * i + 1] = seq;
    evs[i] = ev;
    this.end++;
    if (vals !== undefined) {
      vals[i] = value as string | number;
      if (this.distinct) {
        if (this.counts !== undefined) this.counts.set(value as string | number, (this.counts.get(value as string | number) ?? 0) + 1);
        else if (this.end - this.head > DISTINCT_SMALL) this.countAll();
      } else this.sum += value as number;
    }
    this.evictBefore(this.newestTs - windowMs);
  }

  /** The arrays are full: move the live entries to the front, or double the capacity. */
  private makeRoom(): void {
    const cap = this.ev.length;
    const live = this.end - this.head;
    if (this.head > 0 && live <= cap / 2) {
      this.moveToFront();
      return;
    }
    this.moveToFront();
    if (cap === 0) {
      this.tq = [NaN, NaN];
      this.ev = [undefined];
      if (this.vals !== undefined) this.vals = this.distinct ? [""] : [NaN];
      return;
    }
    // `concat` allocates exactly the result's length (a `push` past the end would reserve
    // 16 more slots); the copied upper half is overwritten as entries arrive.
    this.tq = this.tq.concat(this.tq);
    const ev = this.ev.concat(this.ev);
    for (let i = cap; i < ev.length; i++) ev[i] = undefined;
    this.ev = ev;
    if (this.vals !== undefined) this.vals = this.vals.concat(this.vals);
  }

  private moveToFront(): void {
    const h = this.head;
    if (h === 0) return;
    const tq = this.tq;
    const ev = this.ev;
    const vals = this.vals;
    const live = this.end - h;
    for (let i = 0; i < live; i++) {
      tq[2 * i] = tq[2 * (i + h)] as number;
      tq[2 * i + 1] = tq[2 * (i + h) + 1] as number;
      ev[i] = ev[i + h];
      if (vals !== undefined) vals[i] = vals[i + h] as string | number;
    }
    for (let i = live; i < this.end; i++) ev[i] = undefined;
    this.head = 0;
    this.end = live;
  }

  private countAll(): void {
    const counts = new Map<string | number, number>();
    const vals = this.vals as (string | number)[];
    for (let i = this.head; i < this.end; i++) counts.set(vals[i] as string | number, (counts.get(vals[i] as string | number) ?? 0) + 1);
    this.counts = counts;
  }

  /** Drops entries with ts < cutoff. */
  evictBefore(cutoff: number): void {
    const tq = this.tq;
    let h = this.head;
    const end = this.end;
    if (h >= end || (tq[2 * h] as number) >= cutoff) return;
    const vals = this.vals;
    const evs = this.ev;
    while (h < end && (tq[2 * h] as number) < cutoff) {
      evs[h] = undefined;
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
    const live = end - h;
    if (this.counts !== undefined && live <= DISTINCT_SMALL) this.counts = undefined;
    const cap = evs.length;
    if (cap > 4 && live * 4 <= cap) {
      // Mostly empty: shrink (shortening an array trims it in place).
      this.moveToFront();
      const keep = Math.max(1, live * 2);
      tq.length = 2 * keep;
      evs.length = keep;
      if (vals !== undefined) vals.length = keep;
    }
  }

  distinctCount(): number {
    if (this.counts !== undefined) return this.counts.size;
    const vals = this.vals;
    if (vals === undefined) return 0;
    let c = 0;
    outer: for (let i = this.head; i < this.end; i++) {
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
    for (let i = this.head; i < this.end; i++) m = Math.min(m, vals[i] as number);
    return m;
  }

  max(): number {
    let m = -Infinity;
    const vals = this.vals as number[];
    for (let i = this.head; i < this.end; i++) m = Math.max(m, vals[i] as number);
    return m;
  }

  /** The entries, oldest first (built on demand: when the rule fires, for snapshots). */
  entries(): WindowEntry[] {
    const out: WindowEntry[] = [];
    for (let i = Math.max(0, this.head); i < this.end; i++)
      out.push({ ts: this.tq[2 * i] as number, seq: this.tq[2 * i + 1] as number, event: this.ev[i] as EngineEvent, value: this.vals?.[i] });
    return out;
  }
}

/** Shared by empty windows (never written: a window allocates its own arrays on its first entry). */
const EMPTY_NUMBERS: number[] = [];
