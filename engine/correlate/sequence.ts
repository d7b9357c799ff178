import type { CompiledSequence, EventFields } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";
import type { EventDecoder, EventEncoder } from "../snapshot-codec.js";
import { MinHeap } from "../state/min-heap.js";
import { type Correlator, entryOf, type Firing, keyCombinations, keyString } from "./types.js";
import { evictEarliest } from "./types.js";

/** A partial match: the events bound so far, in order. */
interface Partial {
  readonly start: number;
  readonly events: readonly EngineEvent[];
  /** Per step, the latest event bound to it (what `step.field` reads). */
  readonly bound: readonly (EventFields | undefined)[];
}

interface KeyState {
  readonly values: readonly unknown[];
  /** stages[s]: the partial with s events matched (latest start wins); stage 0 unused. */
  readonly stages: (Partial | undefined)[];
}

/**
 * Ordered sequences per join key. A sequence of steps with repeats is a chain of stages (one
 * per event to match); at each stage, per key, only the partial match with the latest start
 * is kept (it can complete whatever an older one could, within the span). An event is tried
 * against the stages from last to first, so it advances each partial at most one step; the
 * event that completes a match fires the rule and clears the key. `until` clears the key.
 * Order is arrival order, and an event dated before a partial's last event never extends it.
 */
export class SequenceCorrelator implements Correlator {
  private readonly keys = new Map<string, KeyState>();
  private readonly expiry = new MinHeap<string>();
  /** stepAt[s]: the step the (s+1)-th event of a match belongs to. */
  private readonly stepAt: number[] = [];
  private readonly total: number;

  constructor(
    private readonly corr: CompiledSequence,
    private readonly fire: (f: Firing) => void,
    private readonly maxKeys: number,
    private readonly onEvict: () => void,
  ) {
    corr.steps.forEach((s, i) => {
      for (let r = 0; r < s.repeat; r++) this.stepAt.push(i);
    });
    this.total = this.stepAt.length;
  }

  onEvent(ev: EngineEvent): void {
    const until = this.corr.until;
    if (until === undefined || !until(ev.fields)) return;
    for (const values of keyCombinations(this.corr.by, ev)) this.keys.delete(keyString(values));
  }

  onMatch(ev: EngineEvent): void {
    const slot = this.corr.slot;
    const steps = this.corr.steps;
    // Keys of this event per step (steps may join on different fields).
    const keysByStep = steps.map((s) => keyCombinations(s.by, ev).map((v) => [keyString(v), v] as const));
    const completed = new Set<string>();
    for (let s = this.total - 1; s >= 1; s--) {
      const stepIndex = this.stepAt[s] as number;
      const step = steps[stepIndex];
      if (step === undefined) continue;
      for (const [key] of keysByStep[stepIndex] ?? []) {
        if (completed.has(key)) continue;
        const state = this.keys.get(key);
        const p = state?.stages[s];
        if (state === undefined || p === undefined) continue;
        const last = p.events[p.events.length - 1] as EngineEvent;
        if (ev.ts - p.start > this.corr.windowMs || ev.ts < last.ts) continue;
        slot.events = p.bound;
        if (!step.match(ev.fields)) continue;
        const bound = p.bound.slice();
        bound[stepIndex] = ev.fields;
        const next: Partial = { start: p.start, events: [...p.events, ev], bound };
        if (s + 1 === this.total) {
          completed.add(key);
          this.keys.delete(key);
          slot.events = bound;
          this.fire({ at: ev.ts, trigger: ev, keyValues: state.values, keyPaths: this.corr.by, entries: next.events.map((e) => entryOf(e)) });
          continue;
        }
        const cur = state.stages[s + 1];
        if (cur === undefined || cur.start <= next.start) state.stages[s + 1] = next;
      }
    }
    const first = steps[0];
    if (first === undefined) return;
    slot.events = [];
    if (!first.match(ev.fields)) return;
    for (const [key, values] of keysByStep[0] ?? []) {
      if (completed.has(key)) continue;
      let state = this.keys.get(key);
      if (state === undefined) {
        if (this.keys.size >= this.maxKeys) this.evictOne();
        state = { values: this.corr.by.length > 0 ? keyCombinationsFor(this.corr, ev, values) : values, stages: [] };
        this.keys.set(key, state);
      }
      const bound: (EventFields | undefined)[] = [];
      bound[0] = ev.fields;
      state.stages[1] = { start: ev.ts, events: [ev], bound };
      this.expiry.push(ev.ts + this.corr.windowMs, key);
    }
  }

  advance(watermark: number): void {
    while (this.expiry.peekTime() < watermark) {
      const due = this.expiry.pop();
      if (due === undefined) break;
      const state = this.keys.get(due.key);
      if (state === undefined) continue;
      // The key goes when no partial can still complete.
      if (state.stages.every((p) => p === undefined || p.start + this.corr.windowMs < watermark)) this.keys.delete(due.key);
    }
  }

  private evictOne(): void {
    evictEarliest(this.expiry, this.keys, this.onEvict);
  }

  liveKeys(): number {
    return this.keys.size;
  }

  snapshot(enc: EventEncoder): unknown {
    return {
      keys: [...this.keys].map(([k, s]) => [
        k,
        s.values,
        s.stages.map((p) => {
          if (p === undefined) return null;
          const events = p.events.map((e) => enc.ref(e));
          return { start: p.start, events, bound: p.bound.map((f) => enc.refFields(f)) };
        }),
      ]),
      expiry: this.expiry.entries(),
    };
  }

  restore(data: unknown, dec: EventDecoder): void {
    type StoredPartial = { start: number; events: number[]; bound: (number | null)[] } | null;
    const d = data as { keys: [string, unknown[], StoredPartial[]][]; expiry: [number, string][] };
    this.keys.clear();
    for (const [k, values, stages] of d.keys) {
      this.keys.set(k, {
        values,
        stages: stages.map((p) => (p === null ? undefined : { start: p.start, events: p.events.map((i) => dec.get(i)), bound: p.bound.map((i) => dec.fields(i)) })),
      });
    }
    for (const [t, k] of d.expiry) this.expiry.push(t, k);
  }
}

/** The key values shown on alerts: the sequence's by-fields as read on the first event. */
function keyCombinationsFor(corr: CompiledSequence, ev: EngineEvent, fallback: readonly unknown[]): readonly unknown[] {
  const combos = keyCombinations(corr.by, ev);
  return combos.length === 1 ? (combos[0] as unknown[]) : fallback;
}
