import { canonicalSource } from "./correlate/types.js";
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

/** Slots of an entry in a window's array after its time (slot 0, relative to the window's base): seq, position, id, source, value. */
const SEQ = 1;
const POS = 2;
const ID = 3;
const SRC = 4;
const VAL = 5;

type Slot = number | string | undefined;

/** Offsets from a window's base beyond this (about 12 days) move the base, so that they stay small integers. */
const REBASE_AT = 2 ** 30;

/**
 * One key's window, flat: all entries in one array, a fixed number of slots each (time, seq,
 * position, id, source, and the aggregated value unless the window counts), rather than an
 * object per entry or an array per column: most windows hold one or two entries, so what a
 * window costs beyond its entries (objects, headers, cache lines touched per event) matters
 * most. Times are stored relative to the window's first entry, which keeps them small
 * integers (stored unboxed) however large epoch milliseconds are. The array has a capacity
 * that doubles as entries arrive (no allocation per entry) and shrinks when a window empties
 * out. The window also carries its key's slots, the key's values and the time of its entry in the
 * rule's expiry queue, so that the queue can point at the window itself.
 */
export class SlidingWindow {
  /** Live entries are [head, end) (entry indexes; slot `stride * i + TS` …); head is -1 once dropped. */
  private data: Slot[] = EMPTY;
  private head = 0;
  private end = 0;
  /** Slots per entry: 5, or 6 with the aggregated value (a number window or a distinct one: see `agg`). */
  private readonly stride: number;
  /**
   * Event time that stored times are relative to (the window's creation time; moved when
   * offsets grow large; 0 once a time is not an integer: differences would round).
   */
  private base: number;
  /** `queuedAt`, relative to `base` (a small integer, stored unboxed). */
  private queuedOff: number;
  /**
   * A number window: the sum of its values (always a number). A distinct window: the occurrences
   * of each value once it holds many entries (else undefined). A counting window: undefined.
   * One field for both (a window is one or the other); not a plain number field: V8 would box
   * it in every window, counting ones too (16 bytes each), once any sum is not a small integer.
   */
  private agg: number | Map<string | number, number> | undefined;
  /**
   * A window's only entry, while it has one and no array (most windows never hold a second):
   * time (relative to `base`), seq, position, id, source and value, as fields. The array is
   * allocated when a second entry arrives, and dropped again when the window empties out.
   */
  private t1 = 0;
  private seq1 = 0;
  private pos1: number | undefined = undefined;
  private id1: string | undefined = undefined;
  private src1: string | undefined = undefined;
  private val1: string | number | undefined = undefined;

  constructor(
    kind: WindowKind,
    /** The key's slots in the rules' shared map of keys (which holds the key's text after them: `KeyIndex.keyOf`). */
    readonly slots: (SlidingWindow | undefined)[],
    /** The key's values: the value itself for a single by-field, else the array of values. */
    readonly keyValues: unknown,
    /** Event time of this window's latest entry in the expiry queue. */
    queuedAt: number,
  ) {
    this.base = Number.isSafeInteger(queuedAt) ? queuedAt : 0;
    this.queuedOff = queuedAt - this.base;
    this.stride = kind === "count" ? 5 : 6;
    this.agg = kind === "number" ? 0 : undefined;
  }

  /** Event time of this window's latest entry in the expiry queue. */
  get queuedAt(): number {
    return this.base + this.queuedOff;
  }

  set queuedAt(t: number) {
    if (this.base !== 0 && !Number.isSafeInteger(t)) this.rebase(0);
    this.queuedOff = t - this.base;
  }

  /** The window was dropped from its rule (its entries in the expiry queue are stale). */
  get dropped(): boolean {
    return this.head < 0;
  }

  drop(): void {
    this.head = -1;
    this.end = -1;
    this.data = EMPTY;
    if (typeof this.agg !== "number") this.agg = undefined;
    this.clearInline();
  }

  get size(): number {
    return this.end - this.head;
  }

  get newestTs(): number {
    if (this.end === this.head) return -Infinity;
    return this.base + (this.data === EMPTY ? this.t1 : (this.data[this.stride * (this.end - 1)] as number));
  }

  /** Adds an entry (keeping (ts, seq) order for late arrivals) and evicts what fell out of the window. */
  add(ev: EngineEvent, value: string | number | undefined, windowMs: number): void {
    const seq = ev.seq;
    if (this.base !== 0) {
      if (!Number.isSafeInteger(ev.ts)) this.rebase(0);
      else if (Math.abs(ev.ts - this.base) > REBASE_AT) this.rebase(ev.ts);
    }
    const t = ev.ts - this.base;
    if (this.data === EMPTY) {
      if (this.end === this.head) {
        // The window's first entry (or its first since it emptied out): inline, no array.
        this.t1 = t;
        this.seq1 = seq;
        this.pos1 = ev.position;
        this.id1 = ev.id;
        this.src1 = canonicalSource(ev.source);
        this.head = 0;
        this.end = 1;
        if (this.stride > VAL) {
          this.val1 = value;
          if (typeof this.agg === "number") this.agg += value as number;
        }
        return; // one entry: nothing falls out
      }
      this.spill();
    }
    const S = this.stride;
    if (S * this.end === this.data.length) this.makeRoom();
    const d = this.data;
    let i = this.end;
    while (i > this.head) {
      const o = S * (i - 1);
      const ti = d[o] as number;
      if (t < ti || (t === ti && seq < (d[o + SEQ] as number))) {
        // A late entry: move the newer one up.
        for (let k = 0; k < S; k++) d[o + S + k] = d[o + k];
        i--;
      } else break;
    }
    const o = S * i;
    d[o] = t;
    d[o + SEQ] = seq;
    d[o + POS] = ev.position;
    d[o + ID] = ev.id;
    d[o + SRC] = canonicalSource(ev.source);
    this.end++;
    if (S > VAL) {
      d[o + VAL] = value;
      const agg = this.agg;
      if (typeof agg === "number") this.agg = agg + (value as number);
      else if (agg !== undefined) agg.set(value as string | number, (agg.get(value as string | number) ?? 0) + 1);
      else if (this.end - this.head > DISTINCT_SMALL) this.countAll();
    }
    this.evictBefore(this.newestTs - windowMs);
  }

  /** A second entry arrives: the inline entry moves into an array with room for two. */
  private spill(): void {
    const d: Slot[] =
      this.stride === 5
        ? [this.t1, this.seq1, this.pos1, this.id1, this.src1, 0, 0, undefined, undefined, undefined]
        : [this.t1, this.seq1, this.pos1, this.id1, this.src1, this.val1, 0, 0, undefined, undefined, undefined, undefined];
    d[this.stride] = undefined;
    d[this.stride + SEQ] = undefined;
    this.data = d;
    this.head = 0;
    this.end = 1;
    this.clearInline();
  }

  private clearInline(): void {
    this.pos1 = undefined;
    this.id1 = undefined;
    this.src1 = undefined;
    this.val1 = undefined;
  }

  /** Stores times relative to `base` from now on (0: absolute times, for times that are not integers). */
  private rebase(base: number): void {
    const S = this.stride;
    const shift = this.base - base;
    if (this.data === EMPTY && this.end > this.head) this.t1 += shift;
    for (let i = this.head; i < this.end && this.data !== EMPTY; i++) (this.data[S * i] as number) += shift;
    this.queuedOff += shift;
    this.base = base;
  }

  /** The array is full: move the live entries to the front, or double the capacity. */
  private makeRoom(): void {
    const S = this.stride;
    const cap = this.data.length / S;
    const live = this.end - this.head;
    if (this.head > 0 && live <= cap / 2) {
      this.moveToFront();
      return;
    }
    this.moveToFront();
    if (cap === 0) {
      this.data = S === 5 ? [0, 0, undefined, undefined, undefined] : [0, 0, undefined, undefined, undefined, undefined];
      return;
    }
    // `concat` allocates exactly the result's length (a `push` past the end would reserve
    // 16 more slots); the copied upper half is overwritten as entries arrive.
    const d = this.data.concat(this.data);
    for (let i = S * cap; i < d.length; i++) d[i] = undefined;
    this.data = d;
  }

  private moveToFront(): void {
    const h = this.head;
    if (h === 0) return;
    const S = this.stride;
    const d = this.data;
    const live = this.end - h;
    for (let i = 0; i < S * live; i++) d[i] = d[i + S * h];
    for (let i = S * live; i < S * this.end; i++) d[i] = undefined;
    this.head = 0;
    this.end = live;
  }

  private countAll(): void {
    const counts = new Map<string | number, number>();
    const S = this.stride;
    const d = this.data;
    for (let i = this.head; i < this.end; i++) {
      const v = d[S * i + VAL] as string | number;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    this.agg = counts;
  }

  /** Drops entries with ts < cutoff. */
  evictBefore(cutoff: number): void {
    const d = this.data;
    const S = this.stride;
    let h = this.head;
    const end = this.end;
    const rel = cutoff - this.base;
    if (d === EMPTY) {
      if (h < end && this.t1 < rel) {
        if (typeof this.agg === "number") this.agg -= this.val1 as number;
        this.head = this.end = 0;
        this.clearInline();
      }
      return;
    }
    if (h >= end || (d[S * h] as number) >= rel) return;
    while (h < end && (d[S * h] as number) < rel) {
      const o = S * h;
      if (S > VAL) {
        const old = d[o + VAL] as string | number;
        const agg = this.agg;
        if (typeof agg === "number") this.agg = agg - (old as number);
        else if (agg !== undefined) {
          const c = (agg.get(old) ?? 1) - 1;
          if (c === 0) agg.delete(old);
          else agg.set(old, c);
        }
      }
      for (let k = 0; k < S; k++) d[o + k] = undefined;
      h++;
    }
    this.head = h;
    const live = end - h;
    if (this.agg !== undefined && typeof this.agg !== "number" && live <= DISTINCT_SMALL) this.agg = undefined;
    const cap = d.length / S;
    if (live === 0) {
      // Empty: the array goes (the next entry is stored inline).
      this.data = EMPTY;
      this.head = this.end = 0;
    } else if (cap > 4 && live * 4 <= cap) {
      // Mostly empty: shrink (shortening an array trims it in place).
      this.moveToFront();
      d.length = S * Math.max(1, live * 2);
    }
  }

  distinctCount(): number {
    const agg = this.agg;
    if (agg !== undefined && typeof agg !== "number") return agg.size;
    if (this.stride <= VAL || typeof agg === "number") return 0;
    if (this.data === EMPTY) return this.end - this.head;
    const S = this.stride;
    const d = this.data;
    let c = 0;
    outer: for (let i = this.head; i < this.end; i++) {
      const v = d[S * i + VAL];
      // SameValueZero, as a Map counts them.
      for (let j = this.head; j < i; j++) {
        const w = d[S * j + VAL];
        if (w === v || (v !== v && w !== w)) continue outer;
      }
      c++;
    }
    return c;
  }

  total(): number {
    return typeof this.agg === "number" ? this.agg : 0;
  }

  min(): number {
    if (this.data === EMPTY) return this.end > this.head ? (this.val1 as number) : Infinity;
    let m = Infinity;
    const S = this.stride;
    for (let i = this.head; i < this.end; i++) m = Math.min(m, this.data[S * i + VAL] as number);
    return m;
  }

  max(): number {
    if (this.data === EMPTY) return this.end > this.head ? (this.val1 as number) : -Infinity;
    let m = -Infinity;
    const S = this.stride;
    for (let i = this.head; i < this.end; i++) m = Math.max(m, this.data[S * i + VAL] as number);
    return m;
  }

  /**
   * Appends the entries to `out` for a snapshot, oldest first, flat: per entry its time, seq,
   * position, id and source, and its value unless the window counts (`stride` slots), a
   * missing one as null. Returns how many entries it appended. Nothing is allocated per
   * window or entry (a snapshot's windows share one array): taking a snapshot holds up
   * evaluation, and the garbage collector copies what is allocated young.
   */
  appendTo(out: unknown[]): number {
    const S = this.stride;
    const n = this.end - this.head;
    if (n <= 0) return 0;
    if (this.data === EMPTY) {
      out.push(this.base + this.t1, this.seq1, this.pos1 ?? null, this.id1 ?? null, this.src1 ?? null);
      if (S > VAL) out.push(this.val1 ?? null);
      return 1;
    }
    const d = this.data;
    const base = this.base;
    for (let o = S * this.head; o < S * this.end; o += S) {
      out.push(base + (d[o] as number), d[o + SEQ], d[o + POS] ?? null, d[o + ID] ?? null, d[o + SRC] ?? null);
      if (S > VAL) out.push(d[o + VAL] ?? null);
    }
    return n;
  }

  /** Adds `count` entries written by `appendTo` (of a window of the same kind) from entry `from` of `flat`, in order. */
  addFlat(flat: readonly unknown[], from: number, count: number, windowMs: number): void {
    const S = this.stride;
    for (let o = S * from; o < S * (from + count); o += S) {
      const ev: EngineEvent = { id: flat[o + ID] as string, ts: flat[o] as number, seq: flat[o + SEQ] as number, fields: NO_FIELDS };
      const source = flat[o + SRC];
      const position = flat[o + POS];
      if (source !== null) (ev as { source?: string }).source = source as string;
      if (position !== null) (ev as { position?: number }).position = position as number;
      this.add(ev, S > VAL ? ((flat[o + VAL] as string | number | null) ?? undefined) : undefined, windowMs);
    }
  }

  /**
   * The entries, oldest first (built on demand: when the rule fires, for snapshots). Their
   * events carry what evidence shows (id, time, position, source), not the fields.
   */
  entries(): WindowEntry[] {
    const out: WindowEntry[] = [];
    if (this.data === EMPTY) {
      if (this.end > this.head) out.push(entryOf(this.base + this.t1, this.seq1, this.pos1, this.id1 as string, this.src1, this.val1));
      return out;
    }
    const S = this.stride;
    const d = this.data;
    for (let i = Math.max(0, this.head); i < this.end; i++) {
      const o = S * i;
      out.push(entryOf(this.base + (d[o] as number), d[o + SEQ] as number, d[o + POS] as number | undefined, d[o + ID] as string, d[o + SRC] as string | undefined, S > VAL ? (d[o + VAL]) : undefined));
    }
    return out;
  }
}

/** A window entry as `entries` gives it: its event carries what evidence shows. */
function entryOf(ts: number, seq: number, position: number | undefined, id: string, source: string | undefined, value: string | number | undefined): WindowEntry {
  const event: EngineEvent = { id, ts, seq, fields: NO_FIELDS };
  if (source !== undefined) (event as { source?: string }).source = source;
  if (position !== undefined && !Number.isNaN(position)) (event as { position?: number }).position = position;
  return { ts, seq, event, value };
}

const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

/** Shared by empty windows (never written: a window allocates its own array on its first entry). */
const EMPTY: Slot[] = [];
