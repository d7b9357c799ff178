import type { EventFields } from "../dsl/index.js";
import type { EngineEvent } from "./event.js";

/** An event as stored in a snapshot. */
export interface StoredEvent {
  readonly id: string;
  readonly ts: number;
  readonly seq: number;
  readonly fields: EventFields;
  readonly source?: string;
  readonly position?: number;
}

/** Collects the events that state refers to, once each, and hands out their indexes. */
export class EventEncoder {
  readonly events: StoredEvent[] = [];
  private readonly byEvent = new Map<EngineEvent, number>();
  private readonly byFields = new Map<EventFields, number>();
  /**
   * Stored events by identity (id, ts, seq): by `seq` first, a number (no text built per
   * look-up); events that share a seq with another but differ in id or time go in `bySeqClash`.
   */
  private readonly bySeq = new Map<number, number>();
  private readonly bySeqClash = new Map<string, number>();

  ref(ev: EngineEvent): number {
    let i = this.byEvent.get(ev);
    if (i === undefined) {
      i = this.events.length;
      this.events.push({ id: ev.id, ts: ev.ts, seq: ev.seq, fields: ev.fields, source: ev.source, position: ev.position });
      this.byEvent.set(ev, i);
      this.byFields.set(ev.fields, i);
      if (this.identified(ev) === undefined) this.identify(ev, i);
    }
    return i;
  }

  /**
   * Index of an event that stands for its evidence only (id, time, position, source; window
   * entries keep no fields): one stored event per (id, ts, seq), shared with a full event of
   * the same identity when one was stored.
   */
  refEvidence(ev: EngineEvent): number {
    return this.identified(ev) ?? this.ref(ev);
  }

  /** The stored event with the identity of `ev`, if one is. */
  private identified(ev: EngineEvent): number | undefined {
    const i = this.bySeq.get(ev.seq);
    if (i === undefined) return undefined;
    const s = this.events[i] as StoredEvent;
    if (s.id === ev.id && s.ts === ev.ts) return i;
    return this.bySeqClash.get(`${ev.id}\u0000${ev.ts}\u0000${ev.seq}`);
  }

  private identify(ev: EngineEvent, i: number): void {
    if (!this.bySeq.has(ev.seq)) this.bySeq.set(ev.seq, i);
    else this.bySeqClash.set(`${ev.id}\u0000${ev.ts}\u0000${ev.seq}`, i);
  }

  /**
   * Index of a stored event holding these fields: the event they came from when it was stored
   * through `ref`, else a stored event of their own (what a partial match keeps of a step's
   * event: its fields, apart from its evidence).
   */
  refFields(fields: EventFields | undefined): number | null {
    if (fields === undefined) return null;
    let i = this.byFields.get(fields);
    if (i === undefined) {
      i = this.events.length;
      this.events.push({ id: "", ts: 0, seq: 0, fields });
      this.byFields.set(fields, i);
    }
    return i;
  }
}

/** Turns indexes back into events (one object per stored event, shared like the originals). */
export class EventDecoder {
  private readonly cache: (EngineEvent | undefined)[] = [];
  constructor(private readonly stored: readonly StoredEvent[]) {}

  get(i: number): EngineEvent {
    let ev = this.cache[i];
    if (ev === undefined) {
      const s = this.stored[i];
      if (s === undefined) throw new RangeError(`snapshot refers to event #${i}, which it does not hold`);
      ev = { id: s.id, ts: s.ts, seq: s.seq, fields: s.fields, source: s.source, position: s.position };
      this.cache[i] = ev;
    }
    return ev;
  }

  fields(i: number | null): EventFields | undefined {
    return i === null ? undefined : this.get(i).fields;
  }
}
