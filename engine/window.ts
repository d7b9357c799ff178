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
  /** (ts, seq, position) of each entry, interleaved: entry i is at 3i, 3i + 1, 3i + 2 (NaN: no position). */
  private tq: number[] = EMPTY_NUMBERS;
  /**
   * (id, source) of each entry, interleaved: entry i is at 2i, 2i + 1. What evidence shows of
   * an event: the window does not hold on to the event itself (its fields).
   */
  private ev: (string | undefined)[] = [];
  /** Aggregated values (numbers or distinct keys), parallel to the entries; unused by a count. */
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
    return this.end === this.head ? -Infinity : (this.tq[3 * this.end - 3] as number);
  }

  /** Adds an entry (keeping (ts, seq) order for late arrivals) and evicts what fell out of the window. */
  add(ev: EngineEvent, value: string | number | undefined, windowMs: number): void {
    const ts = ev.ts;
    const seq = ev.seq;
    if (2 * this.end === this.ev.length) this.makeRoom();
    const tq = this.tq;
    const evs = this.ev;
    const vals = this.vals;
    let i = this.end;
    while (i > this.head) {
      const t = tq[3 * i - 3] as number;
      if (ts < t || (ts === t && seq < (tq[3 * i - 2] as number))) {
        // A late entry: move the newer one up.
        move(tq, evs, vals, i - 1, i);
        i--;
      } else break;
    }
    tq[3 * i] = ts;
    tq[3 * i + 1] = seq;
    tq[3 * i + 2] = ev.position ?? NaN;
    evs[2 * i] = ev.id;
    evs[2 * i + 1] = ev.source;
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
    const cap = this.ev.length / 2;
    const live = this.end - this.head;
    if (this.head > 0 && live <= cap / 2) {
      this.moveToFront();
      return;
    }
    this.moveToFront();
    if (cap === 0) {
      this.tq = [NaN, NaN, NaN];
      this.ev = [undefined, undefined];
      if (this.vals !== undefined) this.vals = this.distinct ? [""] : [NaN];
      return;
    }
    // `concat` allocates exactly the result's length (a `push` past the end would reserve
    // 16 more slots); the copied upper half is overwritten as entries arrive.
    this.tq = this.tq.concat(this.tq);
    const ev = this.ev.concat(this.ev);
    for (let i = 2 * cap; i < ev.length; i++) ev[i] = undefined;
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
    for (let i = 0; i < live; i++) move(tq, ev, vals, i + h, i);
    for (let i = 2 * live; i < 2 * this.end; i++) ev[i] = undefined;
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
    if (h >= end || (tq[3 * h] as number) >= cutoff) return;
    const vals = this.vals;
    const evs = this.ev;
    while (h < end && (tq[3 * h] as number) < cutoff) {
      evs[2 * h] = undefined;
      evs[2 * h + 1] = undefined;
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
    const cap = evs.length / 2;
    if (cap > 4 && live * 4 <= cap) {
      // Mostly empty: shrink (shortening an array trims it in place).
      this.moveToFront();
      const keep = Math.max(1, live * 2);
      tq.length = 3 * keep;
      evs.length = 2 * keep;
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

  /**
   * The entries, oldest first (built on demand: when the rule fires, for snapshots). Their
   * events carry what evidence shows (id, time, position, source), not the fields.
   */
  entries(): WindowEntry[] {
    const out: WindowEntry[] = [];
    const tq = this.tq;
    for (let i = Math.max(0, this.head); i < this.end; i++) {
      const ts = tq[3 * i] as number;
      const seq = tq[3 * i + 1] as number;
      const position = tq[3 * i + 2] as number;
      const event: EngineEvent = { id: this.ev[2 * i] as string, ts, seq, fields: NO_FIELDS };
      const source = this.ev[2 * i + 1];
      if (source !== undefined) (event as { source?: string }).source = source;
      if (!Number.isNaN(position)) (event as { position?: number }).position = position;
      out.push({ ts, seq, event, value: this.vals?.[i] });
    }
    return out;
  }
}

/** Moves entry `from` to slot `to`. */
function move(tq: number[], ev: (string | undefined)[], vals: (string | number)[] | undefined, from: number, to: number): void {
  tq[3 * to] = tq[3 * from] as number;
  tq[3 * to + 1] = tq[3 * from + 1] as number;
  tq[3 * to + 2] = tq[3 * from + 2] as number;
  ev[2 * to] = ev[2 * from];
  ev[2 * to + 1] = ev[2 * from + 1];
  if (vals !== undefined) vals[to] = vals[from] as string | number;
}

const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

/** Shared by empty windows (never written: a window allocates its own arrays on its first entry). */
const EMPTY_NUMBERS: number[] = [];
