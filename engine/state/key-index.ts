/**
 * One map of keys shared by the rules that key their state alike (the same `by` fields): each
 * key holds one slot per rule. An event is looked up once for all of them (the last lookup is
 * remembered for the event being processed), and a key costs one map entry however many rules
 * hold state for it. A key leaves the map when its last slot empties. The key's text is kept
 * once, after the slots (`keyOf`): state added later for the key keeps that copy rather than
 * the text of the event that added it (each event decoded from a stream has its own).
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
    const slots = new Array<T | undefined>(this.width + 1).fill(undefined);
    (slots as unknown[])[this.width] = key;
    this.map.set(key, slots);
    this.lastEv = ev;
    this.lastKey = key;
    this.last = slots;
    return slots;
  }

  /** The text of the key whose slots these are (the copy the map holds). */
  keyOf(slots: readonly (T | undefined)[]): string {
    return (slots as readonly unknown[])[this.width] as string;
  }

  /** A slot of `key` was emptied: the key goes when all its slots are empty. */
  release(key: string, slots: readonly (T | undefined)[]): void {
    for (let i = 0; i < this.width; i++) if (slots[i] !== undefined) return;
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

/**
 * One rule's state by key, in a slot of a `KeyIndex` shared with the other rules keyed alike
 * (the Map operations a correlation uses): an event's key is looked up once for all of them.
 */
export class SlotMap<V> {
  private count = 0;

  constructor(
    private readonly index: KeyIndex<unknown>,
    private readonly slot: number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** `ev`: the event being processed, when there is one (its lookup is shared). */
  get(key: string, ev?: object): V | undefined {
    return this.index.get(ev, key)?.[this.slot] as V | undefined;
  }

  set(key: string, value: V, ev?: object): void {
    const slots = this.index.get(ev, key) ?? this.index.create(ev, key);
    if (slots[this.slot] === undefined) this.count++;
    slots[this.slot] = value;
  }

  /** The copy of `key`'s text that the map holds, or `key` itself when the map holds none. */
  canonical(key: string, ev?: object): string {
    const slots = this.index.get(ev, key);
    return slots === undefined ? key : this.index.keyOf(slots);
  }

  delete(key: string): boolean {
    const slots = this.index.get(undefined, key);
    if (slots === undefined || slots[this.slot] === undefined) return false;
    slots[this.slot] = undefined;
    this.count--;
    this.index.release(key, slots);
    return true;
  }

  clear(): void {
    for (const [key] of [...this.index.entries(this.slot)]) this.delete(key);
  }

  *[Symbol.iterator](): Generator<[string, V]> {
    for (const [key, v] of this.index.entries(this.slot)) yield [key, v as V];
  }
}
