/**
 * One map of keys shared by the rules that key their state alike (the same `by` fields): each
 * key holds one slot per rule. An event is looked up once for all of them (the last lookup is
 * remembered for the event being processed), and a key costs one map entry however many rules
 * hold state for it. A key leaves the map when its last slot empties.
 */
export class KeyIndex<T> {
  private readonly map = new Map<string, (T | undefined)[]>();
  private width = 0;
  private lastEv: object | undefined;
  private lastKey = "";
  private last: (T | undefined)[] | undefined;

  /** Reserves a slot for one more rule (before any key is added). */
  addSlot(): number {
    return this.width++;
  }

  /** The slots of `key` (undefined when no rule holds state for it), remembered for `ev`. */
  get(ev: object | undefined, key: string): (T | undefined)[] | undefined {
    if (ev !== undefined && this.lastEv === ev && this.lastKey === key) return this.last;
    const slots = this.map.get(key);
    this.lastEv = ev;
    this.lastKey = key;
    this.last = slots;
    return slots;
  }

  /** Adds `key` with empty slots. */
  create(ev: object | undefined, key: string): (T | undefined)[] {
    const slots = new Array<T | undefined>(this.width).fill(undefined);
    this.map.set(key, slots);
    this.lastEv = ev;
    this.lastKey = key;
    this.last = slots;
    return slots;
  }

  /** A slot of `key` was emptied: the key goes when all its slots are empty. */
  release(key: string, slots: readonly (T | undefined)[]): void {
    for (const s of slots) if (s !== undefined) return;
    this.map.delete(key);
    if (this.last === slots) {
      this.last = undefined;
      this.lastEv = undefined;
    }
  }

  /** The keys with state in `slot`, in insertion order (for snapshots). */
  *entries(slot: number): Generator<[string, T]> {
    for (const [key, slots] of this.map) {
      const s = slots[slot];
      if (s !== undefined) yield [key, s];
    }
  }
}
