/**
 * A binary min-heap of (time, owner, value) timers: `MinHeap` for state kept per (key, value)
 * pair under a per-key owner, without a composite key or an object per entry (three parallel
 * arrays). `pop` leaves the popped entry in `time`, `owner` and `value` (no allocation).
 */
export class PairHeap<O, V> {
  private times: number[] = [];
  private owners: O[] = [];
  private values: V[] = [];
  /** The entry `pop` removed last. */
  time = 0;
  owner: O | undefined;
  value: V | undefined;

  get size(): number {
    return this.times.length;
  }

  push(time: number, owner: O, value: V): void {
    const times = this.times;
    times.push(time);
    this.owners.push(owner);
    this.values.push(value);
    let i = times.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((times[p] as number) <= time) break;
      this.swap(i, p);
      i = p;
    }
  }

  peekTime(): number {
    return this.times.length === 0 ? Infinity : (this.times[0] as number);
  }

  /** Removes the earliest entry into `time`, `owner`, `value`; false when empty. */
  pop(): boolean {
    const times = this.times;
    const n = times.length;
    if (n === 0) return false;
    this.time = times[0] as number;
    this.owner = this.owners[0];
    this.value = this.values[0];
    const lastT = times.pop() as number;
    const lastO = this.owners.pop() as O;
    const lastV = this.values.pop() as V;
    if (n > 1) {
      times[0] = lastT;
      this.owners[0] = lastO;
      this.values[0] = lastV;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n - 1 && (times[l] as number) < (times[m] as number)) m = l;
        if (r < n - 1 && (times[r] as number) < (times[m] as number)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return true;
  }

  /** All entries (any order), for snapshots. */
  entries(): [number, O, V][] {
    return this.times.map((t, i) => [t, this.owners[i] as O, this.values[i] as V]);
  }

  private swap(a: number, b: number): void {
    const t = this.times[a] as number;
    this.times[a] = this.times[b] as number;
    this.times[b] = t;
    const o = this.owners[a] as O;
    this.owners[a] = this.owners[b] as O;
    this.owners[b] = o;
    const v = this.values[a] as V;
    this.values[a] = this.values[b] as V;
    this.values[b] = v;
  }
}
