/**
 * Reference models of the correlation kinds, written from docs/language.md as plainly as
 * possible (lists and loops, no indexes): what the property tests compare the engine with.
 * Events are given in time order (the generators never produce late events).
 */
import type { CompiledRule, EventFields, KeySpec } from "../../dsl/index.js";
import { keyText } from "../../dsl/index.js";

export interface ModelEvent {
  readonly id: string;
  readonly ts: number;
  readonly fields: EventFields;
}

export interface ModelAlert {
  readonly at: number;
  readonly keys: Readonly<Record<string, unknown>>;
  readonly count: number;
  suppressed: number;
  /** Ids of the events that made it fire. */
  readonly ids: readonly string[];
}

/** The threshold and window the model uses: the rule's own, or the analyst's stated intent. */
export interface ModelParams {
  readonly threshold?: number;
  readonly windowMs?: number;
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** A key's values, or undefined when a key field is missing (the event joins no key). Scalars only. */
function keyOf(by: readonly KeySpec[], f: EventFields): unknown[] | undefined {
  const out: unknown[] = [];
  for (const k of by) {
    const v = first(k.read(f));
    if (v === undefined || v === null || v === "") return undefined;
    out.push(v);
  }
  return out;
}

const keyString = (vals: readonly unknown[]) => vals.map(keyText).join("\u0000");
const keysRecord = (by: readonly KeySpec[], vals: readonly unknown[]) => Object.fromEntries(by.map((k, i) => [k.path, vals[i]]));

interface Firing {
  at: number;
  keyVals: unknown[];
  keys: Record<string, unknown>;
  trigger: ModelEvent;
  events: ModelEvent[];
}

/** Applies `suppress D [by …]` to firings in order. */
function suppress(rule: CompiledRule, firings: Firing[]): ModelAlert[] {
  const out: ModelAlert[] = [];
  const until = new Map<string, { until: number; alert: ModelAlert }>();
  for (const f of firings) {
    const alert: ModelAlert = { at: f.at, keys: f.keys, count: f.events.length, suppressed: 0, ids: f.events.map((e) => e.id) };
    if (rule.suppress === undefined) {
      out.push(alert);
      continue;
    }
    const values = rule.suppress.by.length > 0 ? rule.suppress.by.map((k) => first(k.read(f.trigger.fields))) : f.keyVals;
    // A missing suppression key never joins (language.md): the firing is never suppressed.
    if (values.some((v) => v === undefined || v === null || v === "")) {
      out.push(alert);
      continue;
    }
    const key = keyString(values);
    const live = until.get(key);
    if (live !== undefined && f.at < live.until) {
      live.alert.suppressed++;
      continue;
    }
    until.set(key, { until: f.at + rule.suppress.ms, alert });
    out.push(alert);
  }
  return out;
}

/** Every matching event fires. */
function noCorrelation(rule: CompiledRule, events: readonly ModelEvent[]): Firing[] {
  return events.filter((e) => rule.match(e.fields)).map((e) => ({ at: e.ts, keyVals: [], keys: {}, trigger: e, events: [e] }));
}

function threshold(rule: CompiledRule, events: readonly ModelEvent[], p: ModelParams): Firing[] {
  const c = rule.correlation;
  if (c?.kind !== "threshold") return [];
  const n = p.threshold ?? c.value;
  const w = p.windowMs ?? c.windowMs;
  const windows = new Map<string, ModelEvent[]>();
  const out: Firing[] = [];
  for (const e of events) {
    if (!rule.match(e.fields)) continue;
    const vals = keyOf(c.by, e.fields);
    if (vals === undefined) continue;
    let value: unknown;
    if (c.agg === "distinct") {
      value = first(c.field?.read(e.fields));
      if (value === undefined || value === null) continue;
    } else if (c.agg !== "count") {
      const raw = first(c.field?.read(e.fields));
      const num = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(num)) continue;
      value = num;
    }
    const k = keyString(vals);
    const win = (windows.get(k) ?? []).concat([e]).filter((x) => x.ts >= e.ts - w);
    windows.set(k, win);
    let crossed: boolean;
    if (c.agg === "count") crossed = win.length >= n;
    else if (c.agg === "distinct") {
      const seen: unknown[] = [];
      for (const x of win) {
        const v = first(c.field?.read(x.fields));
        if (!seen.some((s) => s === v)) seen.push(v);
      }
      crossed = seen.length >= n;
    } else {
      const nums = win.map((x) => Number(first(c.field?.read(x.fields))));
      const agg = c.agg === "sum" ? nums.reduce((a, b) => a + b, 0) : c.agg === "avg" ? nums.reduce((a, b) => a + b, 0) / nums.length : c.agg === "min" ? Math.min(...nums) : Math.max(...nums);
      crossed = c.op === ">" ? agg > n : c.op === ">=" ? agg >= n : c.op === "<" ? agg < n : agg <= n;
    }
    if (crossed) {
      out.push({ at: e.ts, keyVals: vals, keys: keysRecord(c.by, vals), trigger: e, events: win });
      windows.set(k, []);
    }
  }
  return out;
}

function sequence(rule: CompiledRule, events: readonly ModelEvent[], p: ModelParams): Firing[] {
  const c = rule.correlation;
  if (c?.kind !== "sequence") return [];
  const span = p.windowMs ?? c.windowMs;
  const stepAt: number[] = c.steps.flatMap((s, i) => Array.from({ length: s.repeat }, () => i));
  const total = stepAt.length;
  interface Partial {
    start: number;
    events: ModelEvent[];
    bound: (EventFields | undefined)[];
  }
  const keys = new Map<string, { vals: unknown[]; stages: (Partial | undefined)[] }>();
  const out: Firing[] = [];
  const untilBy = c.by;
  for (const e of events) {
    if (c.until !== undefined && c.until(e.fields)) {
      const vals = keyOf(untilBy, e.fields);
      if (vals !== undefined) keys.delete(keyString(vals));
    }
    if (!rule.match(e.fields)) continue;
    const completed = new Set<string>();
    for (let s = total - 1; s >= 1; s--) {
      const stepIndex = stepAt[s]!;
      const step = c.steps[stepIndex]!;
      const vals = keyOf(step.by, e.fields);
      if (vals === undefined) continue;
      const k = keyString(vals);
      if (completed.has(k)) continue;
      const state = keys.get(k);
      const part = state?.stages[s];
      if (state === undefined || part === undefined) continue;
      if (e.ts - part.start > span || e.ts < part.events[part.events.length - 1]!.ts) continue;
      c.slot.events = part.bound;
      if (!step.match(e.fields)) continue;
      const bound = part.bound.slice();
      bound[stepIndex] = e.fields;
      const next: Partial = { start: part.start, events: [...part.events, e], bound };
      if (s + 1 === total) {
        completed.add(k);
        keys.delete(k);
        out.push({ at: e.ts, keyVals: state.vals, keys: keysRecord(c.by, state.vals), trigger: e, events: next.events });
        continue;
      }
      const cur = state.stages[s + 1];
      if (cur === undefined || cur.start <= next.start) state.stages[s + 1] = next;
    }
    c.slot.events = [];
    const step0 = c.steps[0]!;
    if (!step0.match(e.fields)) continue;
    const vals = keyOf(step0.by, e.fields);
    if (vals === undefined) continue;
    const k = keyString(vals);
    if (completed.has(k)) continue;
    const state = keys.get(k) ?? { vals: c.by.length > 0 ? (keyOf(c.by, e.fields) ?? vals) : vals, stages: [] };
    keys.set(k, state);
    state.stages[1] = { start: e.ts, events: [e], bound: [e.fields] };
  }
  return out;
}

function absent(rule: CompiledRule, events: readonly ModelEvent[], latenessMs: number, p: ModelParams): Firing[] {
  const c = rule.correlation;
  if (c?.kind !== "absent") return [];
  const d = p.windowMs ?? c.forMs;
  const last = new Map<string, { vals: unknown[]; e: ModelEvent }>();
  const out: Firing[] = [];
  const fire = (k: string, l: { vals: unknown[]; e: ModelEvent }) => {
    out.push({ at: l.e.ts + d, keyVals: l.vals, keys: keysRecord(c.by, l.vals), trigger: l.e, events: [l.e] });
    last.delete(k);
  };
  let maxTs = -Infinity;
  for (const e of events) {
    maxTs = Math.max(maxTs, e.ts);
    if (rule.match(e.fields)) {
      const vals = keyOf(c.by, e.fields);
      if (vals !== undefined) {
        const k = keyString(vals);
        const l = last.get(k);
        if (l !== undefined && e.ts > l.e.ts + d) fire(k, l);
        last.set(k, { vals, e });
      }
    }
    for (const [k, l] of [...last]) if (l.e.ts + d <= maxTs - latenessMs) fire(k, l);
  }
  for (const [k, l] of [...last]) if (l.e.ts + d <= maxTs) fire(k, l);
  return out.sort((a, b) => a.at - b.at);
}

function firstSeen(rule: CompiledRule, events: readonly ModelEvent[]): Firing[] {
  const c = rule.correlation;
  if (c?.kind !== "first_seen") return [];
  let learningEnd: number | undefined;
  const seen = new Set<string>();
  const out: Firing[] = [];
  for (const e of events) {
    if (!rule.match(e.fields)) continue;
    learningEnd ??= e.ts + c.learningMs;
    const vals = keyOf(c.by, e.fields);
    const value = keyOf(c.fields, e.fields);
    if (vals === undefined || value === undefined) continue;
    const k = keyString([...vals, "\u0001", ...value]);
    if (seen.has(k)) continue;
    seen.add(k);
    if (e.ts < learningEnd) continue;
    const all = [...vals, ...value];
    out.push({ at: e.ts, keyVals: all, keys: keysRecord([...c.by, ...c.fields], all), trigger: e, events: [e] });
  }
  return out;
}

/** The alerts the language says the rule raises on these events (in time order). */
export function referenceAlerts(rule: CompiledRule, events: readonly ModelEvent[], latenessMs: number, p: ModelParams = {}): ModelAlert[] {
  const c = rule.correlation;
  const firings =
    c === undefined
      ? noCorrelation(rule, events)
      : c.kind === "threshold"
        ? threshold(rule, events, p)
        : c.kind === "sequence"
          ? sequence(rule, events, p)
          : c.kind === "absent"
            ? absent(rule, events, latenessMs, p)
            : c.kind === "first_seen"
              ? firstSeen(rule, events)
              : [];
  return suppress(rule, firings);
}
