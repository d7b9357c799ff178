/**
 * A FIFO queue of (time, item) on a growable ring buffer: the times in their own array of
 * numbers (stored unboxed), the items beside them; no object per entry. Amortised O(1) push
 * and shift. Used as an expiry queue whose entries point at the state they expire.
 */
export class TimedQueue<T> {
  private items: (T | undefined)[];
  private times: number[];
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 16) {
    const n = Math.max(2, initialCapacity);
    this.items = new Array<T | undefined>(n).fill(undefined);
    this.times = new Array<number>(n).fill(0);
  }

  get size(): number {
    return this.count;
  }

  push(time: number, item: T): void {
    if (this.count === this.items.length) this.grow();
    const i = (this.head + this.count) % this.items.length;
    this.items[i] = item;
    this.times[i] = time;
    this.count++;
  }

  /** Time of the oldest entry, or Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Infinity : (this.times[this.head] as number);
  }

  /** The oldest entry's item (undefined when empty). */
  peekItem(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** Drops the oldest entry. */
  shift(): void {
    if (this.count === 0) return;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
  }

  /** Calls `fn` with each entry, oldest first (snapshots: nothing allocated per entry). */
  forEach(fn: (item: T, time: number) => void): void {
    const n = this.items.length;
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % n;
      fn(this.items[j] as T, this.times[j] as number);
    }
  }

  /** Entries oldest first, as [item, time] (for snapshots and tests). */
  toArray(): [T, number][] {
    const out: [T, number][] = [];
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % this.items.length;
      out.push([this.items[j] as T, this.times[j] as number]);
    }
    return out;
  }

  private grow(): void {
    const n = this.items.length;
    const items = new Array<T | undefined>(n * 2).fill(undefined);
    const times = new Array<number>(n * 2).fill(0);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % n;
      items[i] = this.items[j];
      times[i] = this.times[j] as number;
    }
    this.items = items;
    this.times = times;
    this.head = 0;
  }
}
