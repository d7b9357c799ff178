/**
 * A per-key sliding window of matching events in event time, for threshold correlations
 * (count, distinct, sum, avg, min, max). Entries live in a deque ordered by (ts, seq); an
 * entry leaves when it is older than the newest entry minus the window. Window edges are
 * inclusive: events at t and t + D are within D of each other.
 */
import type { EngineEvent } from "./event.js";

export interface WindowEntry {
  readonly ts: number;
  readonly seq: number;
  readonly event: EngineEvent;
  /** The aggregated value: a distinct key, or a number for sum/avg/min/max. */
  readonly value: string | number | undefined;
}

export class SlidingWindow {
  private items: WindowEntry[] = [];
  private head = 0;
  private sum = 0;
  private distinct: Map<string | number, number> | undefined;

  constructor(trackDistinct: boolean) {
    if (trackDistinct) this.distinct = new Map();
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get newestTs(): number {
    return this.size === 0 ? -Infinity : (this.items[this.items.length - 1] as WindowEntry).ts;
  }

  /** Adds an entry (keeping (ts, seq) order for late arrivals) and evicts what fell out of the window. */
  add(e: WindowEntry, windowMs: number): void {
    const items = this.items;
    let i = items.length;
    while (i > this.head && before(e, items[i - 1] as WindowEntry)) i--;
    if (i === items.length) items.push(e);
    else items.splice(i, 0, e);
    if (typeof e.value === "number") this.sum += e.value;
    if (this.distinct !== undefined && e.value !== undefined) this.distinct.set(e.value, (this.distinct.get(e.value) ?? 0) + 1);
    this.evictBefore(this.newestTs - windowMs);
  }

  /** Drops entries with ts < cutoff. */
  evictBefore(cutoff: number): void {
    const items = this.items;
    while (this.head < items.length && (items[this.head] as WindowEntry).ts < cutoff) {
      const old = items[this.head++] as WindowEntry;
      if (typeof old.value === "number") this.sum -= old.value;
      if (this.distinct !== undefined && old.value !== undefined) {
        const n = (this.distinct.get(old.value) ?? 1) - 1;
        if (n === 0) this.distinct.delete(old.value);
        else this.distinct.set(old.value, n);
      }
    }
    if (this.head > 32 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
  }

  distinctCount(): number {
    return this.distinct?.size ?? 0;
  }

  total(): number {
    return this.sum;
  }

  min(): number {
    let m = Infinity;
    for (let i = this.head; i < this.items.length; i++) m = Math.min(m, (this.items[i] as WindowEntry).value as number);
    return m;
  }

  max(): number {
    let m = -Infinity;
    for (let i = this.head; i < this.items.length; i++) m = Math.max(m, (this.items[i] as WindowEntry).value as number);
    return m;
  }

  entries(): WindowEntry[] {
    return this.items.slice(this.head);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.sum = 0;
    this.distinct?.clear();
  }
}

function before(a: WindowEntry, b: WindowEntry): boolean {
  return a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq);
}
