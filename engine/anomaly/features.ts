import { fieldReader, type Getter, keyText, parseEventTime } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";

/**
 * Feature definitions: how an event becomes a row of numbers. Declared in a model definition
 * file (JSON), or derived from the feature expressions of a `model` declaration or an
 * `anomaly MODEL(…)` clause (see `featuresFromExpressions`).
 */
export type FeatureDef =
  /** A number field (a numeric string is read as a number; anything else is missing). */
  | { readonly name: string; readonly kind: "numeric"; readonly field: string }
  /**
   * A categorical field: `frequency` — the value's share of the training events (unseen → 0);
   * `hash` — one-hot over `buckets` hashed columns (default 8).
   */
  | { readonly name: string; readonly kind: "category"; readonly field: string; readonly encoding: "frequency" | "hash"; readonly buckets?: number }
  /** Hour of day (UTC) or ISO day of week of a time field (default `@timestamp`), as sin/cos on the circle. */
  | { readonly name: string; readonly kind: "hour_of_day" | "day_of_week"; readonly field?: string }
  /**
   * A per-key aggregate over tumbling windows, as of this event (itself included): `count`
   * of events, `distinct` values of `field`, `sum` of `field`, per value of the `by` fields
   * (e.g. events per minute per user, distinct source IPs per user, bytes out per service).
   */
  | {
      readonly name: string;
      readonly kind: "window";
      readonly agg: "count" | "distinct" | "sum";
      readonly field?: string;
      readonly by: readonly string[];
      /** Window length in ms. */
      readonly windowMs: number;
    }
  /** A compiled value expression of the rule language (number → numeric, string → frequency). */
  | { readonly name: string; readonly kind: "expr"; readonly get: Getter; readonly cyclic?: 24 | 7 };

/** What training learned for the encoders (frequency tables), stored with the model. */
export interface FeatureState {
  /** Per frequency-encoded feature (by name): value → share of the training events. */
  readonly frequencies: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export class FeatureError extends Error {
  readonly code = "E_FEATURE_SPEC";
}

/** Column names a definition expands to. */
export function columnsOf(d: FeatureDef): string[] {
  switch (d.kind) {
    case "hour_of_day":
    case "day_of_week":
      return [`${d.name}.sin`, `${d.name}.cos`];
    case "category":
      return d.encoding === "hash" ? Array.from({ length: d.buckets ?? 8 }, (_, i) => `${d.name}#${i}`) : [d.name];
    case "expr":
      return d.cyclic === undefined ? [d.name] : [`${d.name}.sin`, `${d.name}.cos`];
    default:
      return [d.name];
  }
}

/** FNV-1a, 32 bits: a stable hash for hashed categorical columns. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function toNumber(v: unknown): number {
  if (Array.isArray(v)) v = v[0];
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : NaN;
  }
  return NaN;
}

function categoryText(v: unknown): string | undefined {
  if (Array.isArray(v)) v = v[0];
  return v === undefined || v === null || v === "" ? undefined : keyText(v);
}

/** Tumbling-window state of one window feature: per key, the current window's aggregate. */
class TumblingAggregates {
  private readonly keys = new Map<string, { start: number; count: number; sum: number; distinct: Set<string> | undefined }>();
  private readonly readBy: Getter[];
  private readonly readField: Getter | undefined;

  constructor(
    private readonly def: Extract<FeatureDef, { kind: "window" }>,
    private readonly maxKeys: number,
  ) {
    this.readBy = def.by.map((p) => fieldReader(p));
    this.readField = def.field === undefined ? undefined : fieldReader(def.field);
  }

  /** Adds the event to its key's window and returns the aggregate (NaN without a key). */
  add(ev: EngineEvent): number {
    const parts: string[] = [];
    for (const r of this.readBy) {
      const t = categoryText(r(ev.fields));
      if (t === undefined) return NaN;
      parts.push(t);
    }
    const key = parts.join("\u0000");
    const start = Math.floor(ev.ts / this.def.windowMs) * this.def.windowMs;
    let st = this.keys.get(key);
    if (st === undefined || st.start !== start) {
      if (st !== undefined && start < st.start) {
        // A late event for a window already closed: it is counted as of the current one.
      } else {
        if (st === undefined && this.keys.size >= this.maxKeys) {
          const oldest = this.keys.keys().next().value;
          if (oldest !== undefined) this.keys.delete(oldest);
        }
        st = { start, count: 0, sum: 0, distinct: this.def.agg === "distinct" ? new Set() : undefined };
        this.keys.delete(key);
        this.keys.set(key, st);
      }
    }
    st.count++;
    if (this.readField !== undefined) {
      const v = this.readField(ev.fields);
      if (this.def.agg === "sum") {
        const n = toNumber(v);
        if (Number.isFinite(n)) st.sum += n;
      } else if (this.def.agg === "distinct") {
        const t = categoryText(v);
        if (t !== undefined) st.distinct?.add(t);
      }
    }
    return this.def.agg === "count" ? st.count : this.def.agg === "sum" ? st.sum : (st.distinct?.size ?? 0);
  }

  get size(): number {
    return this.keys.size;
  }
}

/**
 * Turns events into feature rows. Window features are stateful (each `encode` adds the event
 * to its windows), so events must be encoded once each, in event-time order.
 */
export class FeatureEncoder {
  readonly columns: readonly string[];
  private readonly readers: (Getter | undefined)[];
  private readonly windows: (TumblingAggregates | undefined)[];
  private state: FeatureState;

  constructor(
    readonly defs: readonly FeatureDef[],
    state: FeatureState = { frequencies: {} },
    maxKeysPerWindow = 100_000,
  ) {
    if (defs.length === 0) throw new FeatureError("a model needs at least one feature");
    const names = new Set<string>();
    for (const d of defs) {
      if (names.has(d.name)) throw new FeatureError(`feature ${JSON.stringify(d.name)} is declared twice`);
      names.add(d.name);
      if (d.kind === "window" && !(d.windowMs > 0)) throw new FeatureError(`feature ${d.name}: the window must be longer than 0`);
      if (d.kind === "window" && d.agg !== "count" && d.field === undefined) throw new FeatureError(`feature ${d.name}: ${d.agg} needs a field`);
      if (d.kind === "category" && d.encoding === "hash" && !(Number.isInteger(d.buckets ?? 8) && (d.buckets ?? 8) >= 1)) {
        throw new FeatureError(`feature ${d.name}: buckets must be a whole number ≥ 1`);
      }
    }
    this.columns = defs.flatMap(columnsOf);
    this.readers = defs.map((d) => (d.kind === "expr" ? d.get : d.kind === "window" ? undefined : d.field === undefined || d.field === "@timestamp" ? undefined : fieldReader(d.field)));
    this.windows = defs.map((d) => (d.kind === "window" ? new TumblingAggregates(d, maxKeysPerWindow) : undefined));
    this.state = state;
  }

  get featureState(): FeatureState {
    return this.state;
  }

  /**
   * Learns the frequency tables from training events (windows untouched) and returns the
   * learned state, which `encode` then uses.
   */
  learn(events: Iterable<EngineEvent>): FeatureState {
    const counts = new Map<string, Map<string, number>>();
    let n = 0;
    const freqDefs = this.defs.map((d, i) => ({ d, i })).filter(({ d }) => (d.kind === "category" && d.encoding === "frequency") || d.kind === "expr");
    for (const ev of events) {
      n++;
      for (const { d, i } of freqDefs) {
        const v = (this.readers[i] as Getter)(ev.fields);
        if (d.kind === "expr" && typeof (Array.isArray(v) ? v[0] : v) !== "string") continue;
        const t = categoryText(v);
        if (t === undefined) continue;
        let m = counts.get(d.name);
        if (m === undefined) counts.set(d.name, (m = new Map<string, number>()));
        m.set(t, (m.get(t) ?? 0) + 1);
      }
    }
    const frequencies: Record<string, Record<string, number>> = {};
    for (const [name, m] of counts) {
      const table: Record<string, number> = {};
      for (const [v, c] of [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) table[v] = c / n;
      frequencies[name] = table;
    }
    this.state = { frequencies };
    return this.state;
  }

  /** The event's feature row (NaN for a missing value). */
  encode(ev: EngineEvent, out = new Float64Array(this.columns.length)): Float64Array {
    let c = 0;
    for (let i = 0; i < this.defs.length; i++) {
      const d = this.defs[i] as FeatureDef;
      const read = this.readers[i];
      switch (d.kind) {
        case "numeric":
          out[c++] = toNumber((read as Getter)(ev.fields));
          break;
        case "category": {
          const t = categoryText((read as Getter)(ev.fields));
          if (d.encoding === "frequency") out[c++] = t === undefined ? NaN : (this.state.frequencies[d.name]?.[t] ?? 0);
          else {
            const k = d.buckets ?? 8;
            const hit = t === undefined ? -1 : fnv1a(t) % k;
            for (let b = 0; b < k; b++) out[c++] = b === hit ? 1 : 0;
          }
          break;
        }
        case "hour_of_day":
        case "day_of_week": {
          const ts = read === undefined ? ev.ts : timeOf(read(ev.fields));
          const period = d.kind === "hour_of_day" ? 24 : 7;
          const date = new Date(ts);
          const v = d.kind === "hour_of_day" ? date.getUTCHours() + date.getUTCMinutes() / 60 : ((date.getUTCDay() + 6) % 7) + 1;
          c = cyclic(out, c, Number.isFinite(ts) ? v : NaN, period);
          break;
        }
        case "window":
          out[c++] = (this.windows[i] as TumblingAggregates).add(ev);
          break;
        case "expr": {
          const v = (read as Getter)(ev.fields);
          const first = Array.isArray(v) ? (v as unknown[])[0] : v;
          if (d.cyclic !== undefined) c = cyclic(out, c, toNumber(first), d.cyclic);
          else if (typeof first === "string" && !Number.isFinite(Number(first))) out[c++] = this.state.frequencies[d.name]?.[first] ?? 0;
          else out[c++] = toNumber(first);
          break;
        }
        default: {
          const never: never = d;
          return never;
        }
      }
    }
    return out;
  }

  /** Live keys over all window features (state is bounded by maxKeysPerWindow each). */
  liveKeys(): number {
    return this.windows.reduce((s, w) => s + (w?.size ?? 0), 0);
  }
}

function cyclic(out: Float64Array, c: number, v: number, period: number): number {
  const a = (2 * Math.PI * v) / period;
  out[c] = Math.sin(a);
  out[c + 1] = Math.cos(a);
  return c + 2;
}

function timeOf(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const t = parseEventTime(v);
    return typeof t === "number" ? t : NaN;
  }
  return NaN;
}

/**
 * Feature definitions from the rule language: a `model` declaration's features (with their
 * source text, so `hour_of_day(…)` and `day_of_week(…)` become cyclic) or an `anomaly
 * MODEL(…)` clause's inline getters.
 */
export function featuresFromExpressions(features: readonly { readonly text?: string; readonly get: Getter }[]): FeatureDef[] {
  return features.map((f, i) => {
    const text = f.text?.trim() ?? `f${i}`;
    const cyc = /^hour_of_day\s*\(/.test(text) ? 24 : /^day_of_week\s*\(/.test(text) ? 7 : undefined;
    return cyc === undefined ? { name: text, kind: "expr", get: f.get } : { name: text, kind: "expr", get: f.get, cyclic: cyc };
  });
}
