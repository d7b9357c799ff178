import type { CompiledSequence, CompiledStep, EventFields } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";
import type { EventDecoder, EventEncoder } from "../snapshot-codec.js";
import { MinHeap } from "../state/min-heap.js";
import { type KeyIndex, SlotMap } from "../state/key-index.js";
import { canonicalSource, type Correlator, entryOf, type Firing, keyCombinations, type KeyStore, keyString, soleKey } from "./types.js";
import { evictEarliest } from "./types.js";

/**
 * A partial match: the events matched so far, as a chain (the newest last), shared by the
 * stages that extend it. Each link keeps what evidence shows of its event (id, time, position,
 * source), not the event: its fields would stay alive for as long as the match waits (what
 * later steps read of them is kept apart, in `bound`, and only when they do).
 */
class Partial {
  readonly ts: number;
  readonly seq: number;
  readonly id: string;
  readonly source: string | undefined;
  readonly position: number | undefined;

  constructor(
    readonly start: number,
    ev: EngineEvent,
    /** The partial this one extends (one event fewer). */
    readonly prev: Partial | undefined,
    /** Per step, the fields of the latest event bound to it (what `step.field` reads); empty when no step or action reads them. */
    readonly bound: readonly (EventFields | undefined)[],
  ) {
    this.ts = ev.ts;
    this.seq = ev.seq;
    this.id = ev.id;
    this.source = canonicalSource(ev.source);
    this.position = ev.position;
  }

  /** The event as evidence shows it. */
  event(): EngineEvent {
    return { id: this.id, ts: this.ts, seq: this.seq, fields: NO_FIELDS, source: this.source, position: this.position };
  }
}

interface KeyState {
  readonly values: readonly unknown[];
  /** stages[s]: the partial with s events matched (latest start wins); stage 0 unused. */
  readonly stages: (Partial | undefined)[];
  /** Time of this key's one timer in the expiry heap. */
  timer: number;
}

/** What steps read of earlier steps before the first step matched: nothing (shared, never written). */
const NO_EVENTS: readonly (EventFields | undefined)[] = Object.freeze([]);

const NO_FIELDS: EventFields = Object.freeze({});

/** The events of a partial match, oldest first. */
function eventsOf(p: Partial): EngineEvent[] {
  const out: EngineEvent[] = [];
  for (let q: Partial | undefined = p; q !== undefined; q = q.prev) out.push(q.event());
  return out.reverse();
}

/**
 * Ordered sequences per join key. A sequence of steps with repeats is a chain of stages (one
 * per event to match); at each stage, per key, only the partial match with the latest start
 * is kept (it can complete whatever an older one could, within the span). An event is tried
 * against the stages from last to first, so it advances each partial at most one step; the
 * event that completes a match fires the rule and clears the key. `until` clears the key.
 * Order is arrival order, and an event dated before a partial's last event never extends it.
 * When every step joins on the sequence's own keys (the common case), each key's state is
 * looked up once per event. Each key has one timer, re-armed when it comes due while a
 * partial can still complete.
 */
export class SequenceCorrelator implements Correlator {
  private readonly keys: KeyStore<KeyState>;
  private readonly expiry = new MinHeap<string>();
  /** stepAt[s]: the step the (s+1)-th event of a match belongs to. */
  private readonly stepAt: number[] = [];
  private readonly total: number;
  /** Every step joins on the sequence's keys. */
  private readonly uniform: boolean;
  /**
   * Whether each step matched the event being processed (0 not tried, 1 yes, 2 no): a step
   * repeated N times is tried once per event, not once per stage. Only when no step reads an
   * earlier step's fields (the answer is then the same for every partial).
   */
  private readonly hits: Uint8Array;
  private hitsFor: EngineEvent | undefined;

  constructor(
    private readonly corr: CompiledSequence,
    private readonly fire: (f: Firing) => void,
    private readonly maxKeys: number,
    private readonly onEvict: () => void,
    /** The map of keys of the rules keyed like this sequence (shared when every step joins on its keys). */
    index?: KeyIndex<unknown>,
  ) {
    corr.steps.forEach((s, i) => {
      for (let r = 0; r < s.repeat; r++) this.stepAt.push(i);
    });
    this.total = this.stepAt.length;
    this.hits = new Uint8Array(corr.steps.length);
    this.uniform = corr.steps.every((s) => s.by.length === corr.by.length && s.by.every((k, i) => k.path === corr.by[i]?.path));
    // Keys joined by the sequence's own fields can share the map of the rules keyed alike.
    this.keys = index === undefined || !this.uniform ? new Map() : new SlotMap(index, index.addSlot());
  }

  onEvent(ev: EngineEvent): void {
    const until = this.corr.until;
    if (until === undefined || !until(ev.fields)) return;
    for (const values of keyCombinations(this.corr.by, ev)) this.keys.delete(keyString(values));
  }

  onMatch(ev: EngineEvent): void {
    this.hitsFor = undefined; // what steps matched is known for this call only
    if (this.uniform) this.matchUniform(ev);
    else this.matchPerStep(ev);
  }

  /**
   * Tries to extend partial `p` (at stage `s`) of `state` with `ev`; returns true when the
   * match completed (the rule fired and the key was cleared).
   */
  private extend(key: string, state: KeyState, s: number, ev: EngineEvent): boolean {
    const p = state.stages[s];
    if (p === undefined) return false;
    if (ev.ts - p.start > this.corr.windowMs || ev.ts < p.ts) return false;
    const stepIndex = this.stepAt[s] as number;
    const step = this.corr.steps[stepIndex];
    if (step === undefined) return false;
    if (!this.stepMatches(stepIndex, ev, p.bound)) return false;
    const slot = this.corr.slot;
    let bound = p.bound;
    if (this.corr.readsSteps) {
      bound = p.bound.slice();
      (bound as (EventFields | undefined)[])[stepIndex] = ev.fields;
    }
    if (s + 1 === this.total) {
      this.keys.delete(key);
      slot.events = bound;
      const done = new Partial(p.start, ev, p, bound);
      this.fire({ at: ev.ts, trigger: ev, keyValues: state.values, keyPaths: this.corr.by, entries: eventsOf(done).map((e) => entryOf(e)) });
      return true;
    }
    const cur = state.stages[s + 1];
    if (cur === undefined || cur.start <= p.start) state.stages[s + 1] = new Partial(p.start, ev, p, bound);
    return false;
  }

  /** Whether step `i` matches `ev`, with `bound`: the fields of the partial's earlier steps. */
  private stepMatches(i: number, ev: EngineEvent, bound: readonly (EventFields | undefined)[]): boolean {
    const step = this.corr.steps[i] as CompiledStep;
    if (this.corr.readsSteps) {
      this.corr.slot.events = bound;
      return step.match(ev.fields);
    }
    if (this.hitsFor !== ev) {
      this.hits.fill(0);
      this.hitsFor = ev;
    }
    let h = this.hits[i];
    if (h === 0) {
      this.corr.slot.events = bound;
      h = step.match(ev.fields) ? 1 : 2;
      this.hits[i] = h;
    }
    return h === 1;
  }

  /**
   * Starts a partial at stage 1 for `key` (the event matched the first step); `state`: the
   * key's state when the caller already looked it up.
   */
  private begin(key: string, values: readonly unknown[] | undefined, ev: EngineEvent, state = this.keys.get(key, ev)): void {
    if (state === undefined) {
      if (this.keys.size >= this.maxKeys) this.evictOne();
      // Values not passed: each of the first step's key fields holds one value, read them again.
      values ??= keyCombinations((this.corr.steps[0] as CompiledStep).by, ev)[0] ?? [];
      let shown = this.corr.by.length > 0 ? keyCombinationsFor(this.corr, ev, values) : values;
      // A single key value that is the key's text: the map's copy of it, when the map holds the key already.
      if (shown.length === 1 && shown[0] === key && this.keys instanceof SlotMap) {
        const kept = this.keys.canonical(key, ev);
        if (kept !== key) shown = [kept];
      }
      state = { values: shown, stages: new Array<Partial | undefined>(this.total + 1), timer: ev.ts + this.corr.windowMs };
      this.keys.set(key, state, ev);
      this.expiry.push(state.timer, key);
    }
    let bound = NO_EVENTS;
    if (this.corr.readsSteps) {
      const b = new Array<EventFields | undefined>(this.corr.steps.length);
      b[0] = ev.fields;
      bound = b;
    }
    // The latest start is kept (as in `extend`): an event that arrives late, dated before the
    // kept partial's start, must not replace it (it could complete less).
    const cur = state.stages[1];
    if (cur === undefined || cur.start <= ev.ts) state.stages[1] = new Partial(ev.ts, ev, undefined, bound);
  }

  /** Every step joins on the sequence's keys: one lookup per key and event. */
  private matchUniform(ev: EngineEvent): void {
    const key = soleKey(this.corr.by, ev);
    if (key === null) return;
    if (key === undefined) {
      this.matchUniformMany(ev);
      return;
    }
    // The common case: one key.
    const state = this.keys.get(key, ev);
    let completed = false;
    if (state !== undefined)
      for (let s = this.total - 1; s >= 1; s--)
        if (this.extend(key, state, s, ev)) {
          completed = true;
          break;
        }
    if (this.corr.steps.length === 0 || completed || !this.stepMatches(0, ev, NO_EVENTS)) return;
    this.begin(key, undefined, ev, state);
  }

  /** `matchUniform` for an event with array-valued keys. */
  private matchUniformMany(ev: EngineEvent): void {
    const combos = keyCombinations(this.corr.by, ev);
    if (combos.length === 0) return;
    // Distinct key strings (two combinations may print alike), each with its values.
    const keys: string[] = [];
    const valuesOf: (readonly unknown[])[] = [];
    for (const values of combos) {
      const key = keyString(values);
      if (keys.includes(key)) continue;
      keys.push(key);
      valuesOf.push(values);
    }
    let completed: boolean[] | undefined;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as string;
      const state = this.keys.get(key, ev);
      if (state === undefined) continue;
      for (let s = this.total - 1; s >= 1; s--) {
        if (this.extend(key, state, s, ev)) {
          (completed ??= [])[k] = true;
          break;
        }
      }
    }
    const first = this.corr.steps[0];
    if (first === undefined) return;
    this.corr.slot.events = NO_EVENTS;
    if (!first.match(ev.fields)) return;
    for (let k = 0; k < keys.length; k++) if (completed?.[k] !== true) this.begin(keys[k] as string, valuesOf[k], ev);
  }

  /** Steps join on their own keys: the key of this event per step (each key field holding one value). */
  private matchPerStep(ev: EngineEvent): void {
    const steps = this.corr.steps;
    const keyOf: (string | null)[] = [];
    for (const step of steps) {
      const k = soleKey(step.by, ev);
      if (k === undefined) {
        this.matchPerStepMany(ev);
        return;
      }
      keyOf.push(k);
    }
    let completed: string[] | undefined;
    for (let s = this.total - 1; s >= 1; s--) {
      const key = keyOf[this.stepAt[s] as number];
      if (key === null || key === undefined || completed?.includes(key) === true) continue;
      const state = this.keys.get(key);
      if (state !== undefined && this.extend(key, state, s, ev)) (completed ??= []).push(key);
    }
    const first = steps[0];
    if (first === undefined) return;
    this.corr.slot.events = NO_EVENTS;
    if (!first.match(ev.fields)) return;
    const key = keyOf[0];
    if (key !== null && key !== undefined && completed?.includes(key) !== true) this.begin(key, undefined, ev);
  }

  /** `matchPerStep` for an event with array-valued keys: the keys of this event per step. */
  private matchPerStepMany(ev: EngineEvent): void {
    const steps = this.corr.steps;
    const keysByStep = steps.map((s) => keyCombinations(s.by, ev).map((v) => [keyString(v), v] as const));
    const completed = new Set<string>();
    for (let s = this.total - 1; s >= 1; s--) {
      const stepIndex = this.stepAt[s] as number;
      for (const [key] of keysByStep[stepIndex] ?? []) {
        if (completed.has(key)) continue;
        const state = this.keys.get(key);
        if (state !== undefined && this.extend(key, state, s, ev)) completed.add(key);
      }
    }
    const first = steps[0];
    if (first === undefined) return;
    this.corr.slot.events = NO_EVENTS;
    if (!first.match(ev.fields)) return;
    for (const [key, values] of keysByStep[0] ?? []) if (!completed.has(key)) this.begin(key, values, ev);
  }

  advance(watermark: number): void {
    while (this.expiry.peekTime() < watermark) {
      const due = this.expiry.pop();
      if (due === undefined) break;
      const state = this.keys.get(due.key);
      if (state === undefined || state.timer !== due.time) continue;
      // The key goes when no partial can still complete; else its timer moves to the latest start.
      let latest = -Infinity;
      for (const p of state.stages) if (p !== undefined && p.start > latest) latest = p.start;
      if (latest + this.corr.windowMs < watermark) this.keys.delete(due.key);
      else {
        state.timer = latest + this.corr.windowMs;
        this.expiry.push(state.timer, due.key);
      }
    }
  }

  private evictOne(): void {
    evictEarliest(this.expiry, this.keys, this.onEvict);
  }

  liveKeys(): number {
    return this.keys.size;
  }

  /**
   * Per key, one flat array of its stages' partial matches: for each stage that holds one,
   * the stage, the match's start, the stored fields it binds (null: none), whether it extends
   * the previous stage's partial (1) or starts from scratch (0), then its own events (time,
   * seq, id, source, position; `LINK_SLOTS` each, oldest first) beyond that stage's: one
   * array per key and nothing per event, since taking a snapshot holds up evaluation.
   */
  snapshot(enc: EventEncoder): unknown {
    const boundRefs = new Map<readonly (EventFields | undefined)[], (number | null)[] | null>();
    const keys: [string, readonly unknown[], unknown[], number][] = [];
    for (const [k, st] of this.keys) {
      const rec: unknown[] = [];
      for (let s = 1; s < st.stages.length; s++) {
        const p = st.stages[s];
        if (p === undefined) continue;
        let bound = boundRefs.get(p.bound);
        if (bound === undefined) {
          bound = p.bound.length === 0 ? null : p.bound.map((f) => enc.refFields(f));
          boundRefs.set(p.bound, bound);
        }
        const extendsPrevious = p.prev !== undefined && p.prev === st.stages[s - 1];
        rec.push(s, p.start, bound, extendsPrevious ? 1 : 0);
        const at = rec.length;
        rec.length += LINK_SLOTS * (extendsPrevious ? 1 : s);
        // Newest last: written from the end.
        let o = rec.length;
        let q: Partial | undefined = p;
        while (o > at) {
          const link = q as Partial;
          q = link.prev;
          o -= LINK_SLOTS;
          rec[o] = link.ts;
          rec[o + 1] = link.seq;
          rec[o + 2] = link.id;
          rec[o + 3] = link.source ?? null;
          rec[o + 4] = link.position ?? null;
        }
      }
      keys.push([k, st.values, rec, st.timer]);
    }
    return { layout: 2, keys, expiry: this.expiry.entries() };
  }

  restore(data: unknown, dec: EventDecoder): void {
    const d = data as { layout?: number; keys: [string, unknown[], unknown[], number | undefined][]; expiry: [number, string][] };
    this.keys.clear();
    for (const [k, values, stages, timer] of d.keys) {
      const restored = d.layout === 2 ? this.restoreStages(stages, dec) : this.restoreChains(stages, dec);
      // A snapshot from before one timer per key holds no timer: the key's timer is then its latest start's.
      let latest = -Infinity;
      for (const p of restored) if (p !== undefined && p.start > latest) latest = p.start;
      const due = typeof timer === "number" ? timer : latest + this.corr.windowMs;
      this.keys.set(k, { values, stages: restored, timer: due });
      if (typeof timer !== "number") this.expiry.push(due, k);
    }
    for (const [t, k] of d.expiry) this.expiry.push(t, k);
  }

  /** A key's stages from the array `snapshot` writes. */
  private restoreStages(rec: readonly unknown[], dec: EventDecoder): (Partial | undefined)[] {
    const restored = new Array<Partial | undefined>(this.total + 1);
    let o = 0;
    while (o < rec.length) {
      const s = rec[o] as number;
      const start = rec[o + 1] as number;
      const refs = rec[o + 2] as (number | null)[] | null;
      const extendsPrevious = rec[o + 3] === 1;
      o += 4;
      if (!Number.isInteger(s) || s < 1 || s > this.total) throw new RangeError(`sequence snapshot holds stage ${String(s)}; this sequence has stages 1 to ${this.total}`);
      const bound = refs === null ? NO_EVENTS : refs.map((r) => dec.fields(r));
      let chain = extendsPrevious ? restored[s - 1] : undefined;
      for (let n = extendsPrevious ? 1 : s; n > 0; n--, o += LINK_SLOTS) {
        const ev: EngineEvent = { id: rec[o + 2] as string, ts: rec[o] as number, seq: rec[o + 1] as number, fields: NO_FIELDS };
        if (rec[o + 3] !== null) (ev as { source?: string }).source = rec[o + 3] as string;
        if (rec[o + 4] !== null) (ev as { position?: number }).position = rec[o + 4] as number;
        chain = new Partial(start, ev, chain, bound);
      }
      restored[s] = chain;
    }
    return restored;
  }

  /** A key's stages as snapshots before layout 2 held them: each stage its chain of stored events. */
  private restoreChains(stages: readonly unknown[], dec: EventDecoder): (Partial | undefined)[] {
    type StoredPartial = { start: number; events: number[]; bound: (number | null)[] } | null;
    const restored = new Array<Partial | undefined>(this.total + 1);
    (stages as StoredPartial[]).forEach((p, s) => {
      if (p === null) return;
      const bound = p.bound.map((i) => dec.fields(i));
      let chain: Partial | undefined;
      for (const i of p.events) chain = new Partial(p.start, dec.get(i), chain, bound);
      restored[s] = chain;
    });
    return restored;
  }
}

/** Slots per event of a partial match in a snapshot (see `SequenceCorrelator.snapshot`). */
const LINK_SLOTS = 5;

/** The key values shown on alerts: the sequence's by-fields as read on the first event. */
function keyCombinationsFor(corr: CompiledSequence, ev: EngineEvent, fallback: readonly unknown[]): readonly unknown[] {
  const combos = keyCombinations(corr.by, ev);
  return combos.length === 1 ? (combos[0] as unknown[]) : fallback;
}
