/** A binary min-heap of (time, key): timers that fire in time order (absence deadlines, TTLs). */
export class MinHeap<K> {
  private times: number[] = [];
  private keys: K[] = [];

  get size(): number {
    return this.times.length;
  }

  push(time: number, key: K): void {
    this.times.push(time);
    this.keys.push(key);
    let i = this.times.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((this.times[p] as number) <= time) break;
      this.swap(i, p);
      i = p;
    }
  }

  peekTime(): number {
    return this.times.length === 0 ? Infinity : (this.times[0] as number);
  }

  /** Removes and returns the earliest entry. */
  pop(): { time: number; key: K } | undefined {
    const n = this.times.length;
    if (n === 0) return undefined;
    const out = { time: this.times[0] as number, key: this.keys[0] as K };
    const lastT = this.times.pop() as number;
    const lastK = this.keys.pop() as K;
    if (n > 1) {
      this.times[0] = lastT;
      this.keys[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n - 1 && (this.times[l] as number) < (this.times[m] as number)) m = l;
        if (r < n - 1 && (this.times[r] as number) < (this.times[m] as number)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return out;
  }

  /** All entries (any order), for snapshots. */
  entries(): [number, K][] {
    return this.times.map((t, i) => [t, this.keys[i] as K]);
  }

  private swap(a: number, b: number): void {
    const t = this.times[a] as number;
    this.times[a] = this.times[b] as number;
    this.times[b] = t;
    const k = this.keys[a] as K;
    this.keys[a] = this.keys[b] as K;
    this.keys[b] = k;
  }
}
