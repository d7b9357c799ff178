import type { CompiledPack, CompiledRule, CompiledThreshold, KeySpec, PackSettings } from "../dsl/index.js";
import { fieldReader, keyText, toNumber } from "../dsl/index.js";
import { type Alert, alertId, type PlannedAction } from "./alert.js";
import type { EngineEvent, EventFields } from "./event.js";
import { AbsentCorrelator } from "./correlate/absent.js";
import { AnomalyCorrelator } from "./anomaly/correlator.js";
import type { AnomalyOptions } from "./anomaly/scorer.js";
import { FirstSeenCorrelator } from "./correlate/first-seen.js";
import { SequenceCorrelator } from "./correlate/sequence.js";
import { type Correlator, type Firing, KEY_SEP, keyCombinations, firstScalar, soleKey } from "./correlate/types.js";
import { EventDecoder, EventEncoder, type StoredEvent } from "./snapshot-codec.js";
import { KeyIndex } from "./state/key-index.js";
import { TimedQueue } from "./state/timed-queue.js";
import { SlidingWindow, type WindowEntry, type WindowKind } from "./window.js";

export interface EngineOptions {
  /** Wall clock (ms), for `detected_at` and the future-skew check. Injectable for tests. */
  readonly now?: () => number;
  /** Called when a rule fires. */
  readonly onAlert: (alert: Alert) => void;
  /** Called when a suppressed hit is counted on an alert already emitted. */
  readonly onAlertUpdate?: (alert: Alert) => void;
  /** Overrides the pack's settings. */
  readonly settings?: Partial<PackSettings>;
  /** Anomaly rules: baseline sampling, forest size, and where newly trained models go. */
  readonly anomaly?: AnomalyOptions;
}

export type ProcessResult =
  | { readonly accepted: true; readonly late: boolean }
  | { readonly accepted: false; readonly reason: "future_timestamp"; readonly message: string };

export interface RuleStats {
  matched: number;
  alerts: number;
  suppressed: number;
  evictedKeys: number;
}

/** The engine's state as plain, JSON-safe data (see `Engine.snapshot`). */
export interface EngineSnapshot {
  /**
   * 3: windows, expiry queues and suppressions in columns, a rule's window entries in one flat
   * array (`Engine.windowsSnapshot`); 2: a suppression's alert may be null (see
   * `Engine.holdAlert`). Versions 1 and 2 are read as well.
   */
  readonly version: 1 | 2 | 3;
  readonly maxTs: number | null;
  readonly counters: { readonly events: number; readonly late: number; readonly refused: number };
  readonly ruleStats: Readonly<Record<string, RuleStats>>;
  readonly events: readonly StoredEvent[];
  readonly rules: Readonly<Record<string, { readonly fingerprint: string; readonly state: unknown }>>;
}

export interface EngineStats {
  events: number;
  late: number;
  refused: number;
  readonly rules: Map<string, RuleStats>;
}

interface RuleRuntime {
  readonly rule: CompiledRule;
  readonly stats: RuleStats;
  /** Per-key windows, in a map of keys shared with the rules keyed alike (this rule's slot there). */
  readonly windows: KeyIndex<SlidingWindow>;
  readonly slot: number;
  /** Live windows of this rule. */
  live: number;
  /** Windows by the time of their newest entry, oldest first: expiry without scanning all keys. */
  readonly expiry: TimedQueue<SlidingWindow>;
  /** What the windows aggregate; whether the key is one value (not an array of values). */
  readonly windowKind: WindowKind;
  readonly singleKey: boolean;
  /** How far a key's newest time may move before it is queued again. */
  readonly granularity: number;
  /** Suppression per key: until when (event time), and the alert that counts the hits (see `holdAlert`). */
  readonly suppression: Map<string, { until: number; alert: HeldAlert }>;
  readonly suppressionExpiry: TimedQueue<string>;
  /** The state machine of sequence, absent and first-seen rules (thresholds live here). */
  readonly correlator: Correlator | undefined;
}

/** The results of an accepted event (shared: nothing is allocated per event). */
const ACCEPTED: ProcessResult = Object.freeze({ accepted: true, late: false });
const ACCEPTED_LATE: ProcessResult = Object.freeze({ accepted: true, late: true });

/** How long `first seen` remembers a value after it was last seen, unless the pack says otherwise. */
const FIRST_SEEN_TTL_MS = 90 * 86_400_000;

/** Why an event dated `ts` is refused at wall-clock time `wall` with a future skew of `skewMs`. */
export function futureTimestampMessage(ts: number, wall: number, skewMs: number): string {
  return `event time ${new Date(ts).toISOString()} is more than ${skewMs / 1000}s ahead of the clock (${new Date(wall).toISOString()})`;
}

/**
 * The correlation engine: each event goes to the rules that can match it; matches feed
 * per-key windows in event time; a crossed threshold raises an alert with a deterministic id.
 */
export class Engine {
  private readonly now: () => number;
  private settings: PackSettings;
  private unpinned: RuleRuntime[] = [];
  private dispatchFields = new Map<string, { readonly read: (f: EventFields) => unknown; readonly byValue: Map<string, RuleRuntime[]> }>();
  /** Rules indexed by the value of their dispatch field, per field. */
  private dispatch: { readonly read: (f: EventFields) => unknown; readonly byValue: Map<string, RuleRuntime[]> }[] = [];
  /** All rule runtimes, in pack order. */
  private all: RuleRuntime[] = [];
  private maxTs = -Infinity;
  /** Rules whose correlations have timers or expiry to advance as time moves. */
  private timed: Correlator[] = [];
  /** The pack's model declarations (anomaly rules score with them). */
  private models: CompiledPack["models"] = new Map();
  /** Rules the engine cannot run, with the reason (reported, never silently skipped). */
  unsupported: { readonly rule: string; readonly reason: string }[] = [];
  readonly stats: EngineStats = { events: 0, late: 0, refused: 0, rules: new Map() };

  constructor(
    pack: CompiledPack,
    private readonly opts: EngineOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.settings = { ...pack.settings, ...opts.settings };
    this.install(pack);
  }

  /** Builds the runtimes of a pack's rules (fresh state). */
  private install(pack: CompiledPack): void {
    this.settings = { ...pack.settings, ...this.opts.settings };
    this.unpinned = [];
    this.dispatch = [];
    this.dispatchFields = new Map();
    this.all = [];
    this.timed = [];
    this.unsupported = [];
    this.models = pack.models;
    this.stats.rules.clear();
    /**
     * Rules keyed by the same fields share one map of keys (threshold windows, sequences whose
     * steps all join on the sequence's keys, absence): one lookup per event and key.
     */
    const keyIndexes = new Map<string, KeyIndex<unknown>>();
    const indexFor = (by: readonly KeySpec[]): KeyIndex<unknown> => {
      const paths = by.map((k) => k.path).join("\u0000");
      let index = keyIndexes.get(paths);
      if (index === undefined) keyIndexes.set(paths, (index = new KeyIndex()));
      return index;
    };
    for (const rule of pack.rules) {
      if (!rule.enabled) continue;
      if (rule.correlation?.kind === "anomaly" && !pack.models.has(rule.correlation.model)) {
        this.unsupported.push({ rule: rule.name, reason: `model ${rule.correlation.model} is not declared or has errors` });
        continue;
      }
      const stats: RuleStats = { matched: 0, alerts: 0, suppressed: 0, evictedKeys: 0 };
      this.stats.rules.set(rule.name, stats);
      const threshold = rule.correlation?.kind === "threshold" ? rule.correlation : undefined;
      const windowMs = threshold?.windowMs ?? 0;
      // The slots of a threshold rule hold its windows (other rules' slots, other state).
      const windows = indexFor(threshold?.by ?? []) as KeyIndex<SlidingWindow>;
      const rt: RuleRuntime = {
        rule,
        stats,
        windows,
        slot: windows.addSlot(),
        live: 0,
        expiry: new TimedQueue(),
        windowKind: threshold === undefined || threshold.agg === "count" ? "count" : threshold.agg === "distinct" ? "distinct" : "number",
        singleKey: threshold?.by.length === 1,
        granularity: Math.max(1, Math.floor(windowMs / 4)),
        suppression: new Map(),
        suppressionExpiry: new TimedQueue(),
        correlator: undefined,
      };
      (rt as { correlator: Correlator | undefined }).correlator = this.correlatorFor(rt, indexFor);
      if (rt.correlator !== undefined) this.timed.push(rt.correlator);
      this.all.push(rt);
      if (rule.dispatch === undefined) this.unpinned.push(rt);
      else {
        const field = rule.dispatch.field;
        let index = this.dispatchFields.get(field);
        if (index === undefined) {
          index = { read: fieldReader(field), byValue: new Map() };
          this.dispatchFields.set(field, index);
          this.dispatch.push(index);
        }
        for (const v of rule.dispatch.values) {
          const list = index.byValue.get(v) ?? [];
          list.push(rt);
          index.byValue.set(v, list);
        }
      }
    }
  }

  /** Live per-key windows and suppressions, by rule (state is bounded: tests and metrics read this). */
  liveKeys(): Map<string, { windows: number; suppressions: number }> {
    const out = new Map<string, { windows: number; suppressions: number }>();
    for (const rt of this.runtimes()) out.set(rt.rule.name, { windows: rt.live + (rt.correlator?.liveKeys() ?? 0), suppressions: rt.suppression.size });
    return out;
  }

  private runtimes(): readonly RuleRuntime[] {
    return this.all;
  }

  /**
   * The whole state as plain data (JSON-safe): the newest event time, counters, and each
   * rule's windows, suppressions and partial matches, tagged with the rule's version. A
   * restored engine continues exactly where this one stopped. Detached: the engine never
   * mutates what it returns, so a checkpoint store may serialise it while the engine goes on.
   */
  snapshot(): EngineSnapshot {
    const enc = new EventEncoder();
    const rules: Record<string, { fingerprint: string; state: unknown }> = {};
    for (const rt of this.all) {
      const state = rt.correlator !== undefined ? (rt.correlator.snapshot(enc) as object) : this.windowsSnapshot(rt);
      rules[rt.rule.name] = { fingerprint: rt.rule.fingerprint, state: { ...state, ...suppressionSnapshot(rt) } };
    }
    const stats: Record<string, RuleStats> = {};
    for (const [name, st] of this.stats.rules) stats[name] = { ...st };
    return {
      version: 3,
      maxTs: this.maxTs === -Infinity ? null : this.maxTs,
      counters: { events: this.stats.events, late: this.stats.late, refused: this.stats.refused },
      ruleStats: stats,
      events: enc.events,
      rules,
    };
  }

  /**
   * A threshold rule's windows, in columns (version 3): per window its key, its key values as
   * stored, the time it was queued at and its number of entries; all windows' entries in one
   * flat array (`SlidingWindow.appendTo`); the expiry queue's live entries, oldest first. A
   * few long arrays rather than arrays per window and entry: the snapshot is taken between two
   * batches, and what it allocates young the garbage collector then copies.
   */
  private windowsSnapshot(rt: RuleRuntime): object {
    const keys: string[] = [];
    const values: unknown[] = [];
    const queuedAt: number[] = [];
    const sizes: number[] = [];
    const entries: unknown[] = [];
    for (const [k, w] of rt.windows.entries(rt.slot)) {
      keys.push(k);
      values.push(w.keyValues);
      queuedAt.push(w.queuedAt);
      sizes.push(w.appendTo(entries));
    }
    const expiryKeys: string[] = [];
    const expiryTimes: number[] = [];
    rt.expiry.forEach((w, t) => {
      if (w.dropped) return;
      expiryKeys.push(rt.windows.keyOf(w.slots));
      expiryTimes.push(t);
    });
    return { windows: { keys, values, queuedAt, sizes, entries }, expiry: { keys: expiryKeys, times: expiryTimes } };
  }

  /**
   * Takes over a snapshot's state. Rules whose version (fingerprint) changed, or that are
   * new, start empty; rules that are gone are dropped.
   */
  restore(snap: EngineSnapshot): void {
    if (snap.version !== 1 && snap.version !== 2 && snap.version !== 3) throw new RangeError(`unsupported engine snapshot version ${String(snap.version)} (this engine reads versions 1 to 3)`);
    const dec = new EventDecoder(snap.events);
    this.maxTs = snap.maxTs ?? -Infinity;
    this.stats.events = snap.counters.events;
    this.stats.late = snap.counters.late;
    this.stats.refused = snap.counters.refused;
    for (const rt of this.all) {
      const saved = snap.rules[rt.rule.name];
      const st = snap.ruleStats[rt.rule.name];
      if (st !== undefined) Object.assign(rt.stats, st);
      if (saved === undefined || saved.fingerprint !== rt.rule.fingerprint) continue;
      if (rt.correlator !== undefined) rt.correlator.restore(saved.state, dec);
      if (snap.version === 3) {
        if (rt.correlator === undefined) this.restoreWindows(rt, saved.state as WindowsState);
        this.restoreSuppression(rt, saved.state as SuppressionState);
      } else this.restoreLegacy(rt, saved.state as LegacyState, dec);
    }
  }

  private restoreWindows(rt: RuleRuntime, state: WindowsState): void {
    const corr = rt.rule.correlation;
    if (corr?.kind !== "threshold" || state.windows === undefined) return;
    const w = state.windows;
    let from = 0;
    for (let i = 0; i < w.keys.length; i++) {
      const key = w.keys[i] as string;
      const slots = rt.windows.get(undefined, key) ?? rt.windows.create(undefined, key);
      const window = new SlidingWindow(rt.windowKind, slots, w.values[i], w.queuedAt[i] as number);
      const n = w.sizes[i] as number;
      window.addFlat(w.entries, from, n, corr.windowMs);
      from += n;
      slots[rt.slot] = window;
      rt.live++;
    }
    const e = state.expiry;
    for (let i = 0; i < (e?.keys.length ?? 0); i++) {
      const win = rt.windows.get(undefined, e!.keys[i] as string)?.[rt.slot];
      if (win !== undefined) rt.expiry.push(e!.times[i] as number, win);
    }
  }

  private restoreSuppression(rt: RuleRuntime, state: SuppressionState): void {
    const s = state.suppression;
    for (let i = 0; i < s.keys.length; i++) {
      const alert = s.alerts[i];
      // A copy: the snapshot's alert may be another engine's (or this one's before a reload).
      const held = alert === null || alert === undefined ? undefined : this.holdAlert({ ...alert });
      rt.suppression.set(s.keys[i] as string, { until: s.until[i] as number, alert: held });
    }
    const e = state.suppressionExpiry;
    for (let i = 0; i < e.keys.length; i++) rt.suppressionExpiry.push(e.times[i] as number, e.keys[i] as string);
  }

  /** Versions 1 and 2: windows, expiry and suppressions as arrays of tuples. */
  private restoreLegacy(rt: RuleRuntime, state: LegacyState, dec: EventDecoder): void {
    if (rt.correlator === undefined && rt.rule.correlation?.kind === "threshold") {
      const corr = rt.rule.correlation;
      for (const [key, values, entries, queuedAt] of state.windows ?? []) {
        const slots = rt.windows.get(undefined, key) ?? rt.windows.create(undefined, key);
        const window = new SlidingWindow(rt.windowKind, slots, rt.singleKey ? values[0] : values, queuedAt);
        for (const [i, value] of entries) window.add(dec.get(i), value ?? undefined, corr.windowMs);
        slots[rt.slot] = window;
        rt.live++;
      }
      for (const [key, t] of state.expiry ?? []) {
        const w = rt.windows.get(undefined, key)?.[rt.slot];
        if (w !== undefined) rt.expiry.push(t, w);
      }
    }
    for (const [key, until, alert] of state.suppression) rt.suppression.set(key, { until, alert: alert === null ? undefined : this.holdAlert({ ...alert }) });
    for (const [key, t] of state.suppressionExpiry) rt.suppressionExpiry.push(t, key);
  }

  /**
   * Hot reload: swaps in a new pack without a restart. Unchanged rules (same fingerprint)
   * keep their state; changed and new rules start empty.
   */
  reload(pack: CompiledPack): void {
    const snap = this.snapshot();
    this.install(pack);
    this.restore(snap);
  }

  private correlatorFor(rt: RuleRuntime, indexFor: (by: readonly KeySpec[]) => KeyIndex<unknown>): Correlator | undefined {
    const corr = rt.rule.correlation;
    const fire = (f: Firing) => this.fire(rt, f, this.now());
    const evicted = () => void rt.stats.evictedKeys++;
    const max = this.settings.maxKeysPerRule;
    switch (corr?.kind) {
      case "sequence":
        return new SequenceCorrelator(corr, fire, max, evicted, indexFor(corr.by));
      case "absent":
        return new AbsentCorrelator(corr, fire, max, evicted, indexFor(corr.by));
      case "first_seen":
        return new FirstSeenCorrelator(corr, fire, FIRST_SEEN_TTL_MS, max, evicted, indexFor(corr.by));
      case "anomaly": {
        const model = this.models.get(corr.model);
        return model === undefined ? undefined : new AnomalyCorrelator(corr, model, fire, max, evicted, this.opts.anomaly);
      }
      default:
        return undefined;
    }
  }

  /**
   * The input has ended (a replay's last line): no event can still arrive, so time moves to
   * the newest event time and the timers that are due by then fire (absence).
   */
  finish(): void {
    if (this.maxTs === -Infinity) return;
    for (const c of this.timed) c.advance(this.maxTs);
  }

  /** Event time up to which all events are expected to have arrived. */
  get watermark(): number {
    return this.maxTs - this.settings.latenessMs;
  }

  process(ev: EngineEvent): ProcessResult {
    const wall = this.now();
    const result = this.advance(ev.ts, wall);
    if (!result.accepted) return result;

    for (const rt of this.unpinned) this.evaluate(rt, ev, wall);
    for (const index of this.dispatch) {
      const v = index.read(ev.fields);
      if (typeof v === "string") {
        const rules = index.byValue.get(v);
        if (rules !== undefined) for (const rt of rules) this.evaluate(rt, ev, wall);
      } else if (Array.isArray(v)) {
        const seen = new Set<RuleRuntime>();
        for (const c of v) {
          const rules = typeof c === "string" ? index.byValue.get(c) : undefined;
          if (rules !== undefined)
            for (const rt of rules)
              if (!seen.has(rt)) {
                seen.add(rt);
                this.evaluate(rt, ev, wall);
              }
        }
      }
    }
    return result;
  }

  /**
   * An event at `ts` that no rule can act on (`packRelevance` of the pack is false for its
   * fields), by its time alone: refused, counted, late and moving event time exactly as
   * {@link process} would take it, without evaluating the rules.
   */
  pass(ts: number): ProcessResult {
    return this.advance(ts, this.now());
  }

  /** An event's time taken in: refused when too far ahead of the clock, counted, late or not, and moving event time. */
  private advance(ts: number, wall: number): ProcessResult {
    if (ts > wall + this.settings.futureSkewMs) {
      this.stats.refused++;
      return {
        accepted: false,
        reason: "future_timestamp",
        message: futureTimestampMessage(ts, wall, this.settings.futureSkewMs),
      };
    }
    this.stats.events++;
    const late = ts < this.watermark;
    if (late) this.stats.late++;
    if (ts > this.maxTs) {
      // Time moves first, so alerts come out in event-time order; timers fire strictly before
      // the watermark, so an event exactly at a key's deadline still counts as that key's.
      this.maxTs = ts;
      const wm = this.watermark;
      for (const c of this.timed) c.advance(wm);
    }
    return late ? ACCEPTED_LATE : ACCEPTED;
  }

  private evaluate(rt: RuleRuntime, ev: EngineEvent, wall: number): void {
    const c = rt.correlator;
    c?.onEvent?.(ev);
    if (!rt.rule.match(ev.fields)) return;
    rt.stats.matched++;
    if (c !== undefined) {
      c.onMatch(ev);
      return;
    }
    const corr = rt.rule.correlation;
    if (corr === undefined || corr.kind !== "threshold") {
      this.fire(rt, { at: ev.ts, trigger: ev, keyValues: [], keyPaths: [], entries: [toEntry(ev, undefined)] }, wall);
      return;
    }
    const value = aggregatedValue(corr, ev);
    if (value === null) return; // the aggregated field is missing or not a number
    if (corr.by.length === 1) {
      // The common case: one by-field holding one value.
      const v = (corr.by[0] as KeySpec).read(ev.fields);
      if (v === undefined || v === null || v === "") return;
      if (!Array.isArray(v)) {
        this.feed(rt, corr, ev, keyText(v), v, value, wall);
        this.expire(rt, corr.windowMs);
        return;
      }
    }
    const key = soleKey(corr.by, ev);
    if (key === null) return;
    if (key !== undefined) this.feed(rt, corr, ev, key, undefined, value, wall);
    else for (const values of keyCombinations(corr.by, ev)) this.feed(rt, corr, ev, values.map(keyText).join(KEY_SEP), rt.singleKey ? values[0] : values, value, wall);
    this.expire(rt, corr.windowMs);
  }

  private feed(
    rt: RuleRuntime,
    corr: CompiledThreshold,
    ev: EngineEvent,
    key: string,
    keyValues: unknown,
    value: string | number | undefined,
    wall: number,
  ): void {
    let slots = rt.windows.get(ev, key);
    let w = slots?.[rt.slot];
    if (w === undefined) {
      if (rt.live >= this.settings.maxKeysPerRule) {
        this.evictOldest(rt);
        slots = rt.windows.get(ev, key);
      }
      slots ??= rt.windows.create(ev, key);
      // Key values not passed: every by-field holds one value, read them again (once per new key).
      keyValues ??= rt.singleKey ? (corr.by[0] as KeySpec).read(ev.fields) : keyCombinations(corr.by, ev)[0];
      // A single key value that is the key's text: the window keeps the map's copy of it.
      const kept = rt.windows.keyOf(slots);
      w = new SlidingWindow(rt.windowKind, slots, keyValues === key ? kept : keyValues, ev.ts);
      slots[rt.slot] = w;
      rt.live++;
      rt.expiry.push(ev.ts, w);
    }
    w.add(ev, value, corr.windowMs);
    const newest = w.newestTs;
    if (newest - w.queuedAt >= rt.granularity) {
      w.queuedAt = newest;
      rt.expiry.push(newest, w);
    }
    const agg = aggregate(corr, w);
    if (crosses(corr, agg)) {
      const entries = w.entries();
      dropWindow(rt, w);
      this.fire(rt, { at: ev.ts, trigger: ev, keyValues: keyValuesOf(rt, w), keyPaths: corr.by, entries, value: corr.agg === "count" ? undefined : agg }, wall);
    }
  }

  /** Drops the key whose newest entry is oldest (the per-rule key cap). */
  private evictOldest(rt: RuleRuntime): void {
    for (let w = rt.expiry.peekItem(); w !== undefined; w = rt.expiry.peekItem()) {
      const t = rt.expiry.peekTime();
      rt.expiry.shift();
      if (!w.dropped && w.queuedAt === t) {
        dropWindow(rt, w);
        rt.stats.evictedKeys++;
        return;
      }
    }
  }

  /**
   * Drops keys whose windows can no longer hold an on-time event, oldest first through the
   * expiry queue: O(1) amortised per event, never a scan of all keys.
   */
  private expire(rt: RuleRuntime, windowMs: number): void {
    const cutoff = this.watermark - windowMs;
    const expiry = rt.expiry;
    for (let t = expiry.peekTime(); t < cutoff; t = expiry.peekTime()) {
      const w = expiry.peekItem() as SlidingWindow;
      expiry.shift();
      if (w.dropped || w.queuedAt > t) continue; // gone, or queued again later
      if (w.newestTs < cutoff) dropWindow(rt, w);
      else {
        w.queuedAt = w.newestTs;
        expiry.push(w.queuedAt, w);
      }
    }
    const wm = this.watermark;
    for (let t = rt.suppressionExpiry.peekTime(); t < wm; t = rt.suppressionExpiry.peekTime()) {
      const key = rt.suppressionExpiry.peekItem() as string;
      rt.suppressionExpiry.shift();
      if (rt.suppression.get(key)?.until === t) rt.suppression.delete(key);
    }
  }

  /**
   * How a suppression holds the alert that counts its hits. Updates are reported through
   * `onAlertUpdate`; without it, only whoever holds the alert can see its count go up (a
   * replay prints its alerts at the end), and once no one does, no one can: the alert is then
   * held weakly, so that an engine whose alerts are dropped does not keep them alive for the
   * suppression's duration. (A snapshot of such an engine holds the alert only while someone
   * else does; restoring it is the same to every observer.)
   */
  private holdAlert(alert: Alert): HeldAlert {
    return this.opts.onAlertUpdate === undefined ? new WeakRef(alert) : alert;
  }

  private fire(rt: RuleRuntime, f: Firing, wall: number): void {
    const rule = rt.rule;
    const { trigger: ev, keyValues, entries, value } = f;
    const sup = rule.suppress;
    let supKey = "";
    let missingKey = false;
    if (sup !== undefined) {
      // A missing suppression key never joins: such a firing is not suppressed. (No keys at
      // all is one rule-wide key.)
      if (sup.by.length === 1 || (sup.by.length === 0 && keyValues.length === 1)) {
        // One key value (the common case): its text, nothing else built.
        const v = sup.by.length === 1 ? firstScalar((sup.by[0] as KeySpec).read(ev.fields)) : keyValues[0];
        missingKey = v === undefined || v === null || v === "";
        supKey = keyText(v);
      } else {
        const supValues = sup.by.length === 0 ? keyValues : sup.by.map((k) => firstScalar(k.read(ev.fields)));
        missingKey = supValues.some((v) => v === undefined || v === null || v === "");
        supKey = supValues.map(keyText).join(KEY_SEP);
      }
      const current = missingKey ? undefined : rt.suppression.get(supKey);
      if (current !== undefined && f.at < current.until) {
        const counted = alertOf(current.alert);
        if (counted !== undefined) counted.suppressed++;
        rt.stats.suppressed++;
        if (counted !== undefined) this.opts.onAlertUpdate?.(counted);
        return;
      }
    }
    const keys: Record<string, unknown> = {};
    f.keyPaths.forEach((k, i) => (keys[k.path] = keyValues[i]));
    if (f.extraKeys !== undefined) Object.assign(keys, f.extraKeys);
    const first = entries[0] as WindowEntry;
    const last = entries[entries.length - 1] as WindowEntry;
    const cap = this.settings.evidenceCap;
    const shown = entries.length > cap ? entries.slice(0, cap) : entries;
    const alert: Alert = {
      id: alertId(rule.name, keyValues.map(keyText).join(KEY_SEP), first.event.id),
      rule: rule.name,
      rule_version: rule.fingerprint,
      title: rule.title,
      severity: rule.severity,
      risk: rule.risk,
      tags: rule.tags,
      keys,
      count: entries.length,
      value,
      first_event_at: eventIso.of(first.ts),
      last_event_at: eventIso.of(last.ts),
      fired_at: eventIso.of(f.at),
      detected_at: wallIso.of(wall),
      evidence: {
        event_ids: shown.map((e) => e.event.id),
        origins: shown.flatMap((e) => (e.event.source === undefined ? [] : [`${e.event.source}:${e.event.position ?? 0}`])),
        truncated: entries.length - shown.length,
      },
      suppressed: 0,
      actions: planActions(rule, ev),
    };
    if (sup !== undefined && !missingKey) {
      rt.suppression.set(supKey, { until: f.at + sup.ms, alert: this.holdAlert(alert) });
      rt.suppressionExpiry.push(f.at + sup.ms, supKey);
    }
    rt.stats.alerts++;
    this.opts.onAlert(alert);
  }
}

/** A suppression's alert: held strongly, weakly (see `Engine.holdAlert`), or none (restored without one). */
type HeldAlert = Alert | WeakRef<Alert> | undefined;

function alertOf(held: HeldAlert): Alert | undefined {
  return held instanceof WeakRef ? held.deref() : held;
}

/**
 * A rule's suppressions, in columns (version 3): key, until when, and a copy of the alert
 * that counts the hits (the count goes on rising after the snapshot is taken).
 */
function suppressionSnapshot(rt: RuleRuntime): SuppressionState {
  const keys: string[] = [];
  const until: number[] = [];
  const alerts: (Alert | null)[] = [];
  for (const [k, v] of rt.suppression) {
    const a = alertOf(v.alert);
    keys.push(k);
    until.push(v.until);
    alerts.push(a === undefined ? null : { ...a });
  }
  const eKeys: string[] = [];
  const eTimes: number[] = [];
  rt.suppressionExpiry.forEach((k, t) => {
    eKeys.push(k);
    eTimes.push(t);
  });
  return { suppression: { keys, until, alerts }, suppressionExpiry: { keys: eKeys, times: eTimes } };
}

/** A threshold rule's state in a version-3 snapshot (see `Engine.windowsSnapshot`). */
interface WindowsState {
  readonly windows?: { keys: string[]; values: unknown[]; queuedAt: number[]; sizes: number[]; entries: unknown[] };
  readonly expiry?: { keys: string[]; times: number[] };
}

/** Every rule's suppressions in a version-3 snapshot (see `suppressionSnapshot`). */
interface SuppressionState {
  readonly suppression: { keys: string[]; until: number[]; alerts: (Alert | null)[] };
  readonly suppressionExpiry: { keys: string[]; times: number[] };
}

/** A rule's state in snapshots of versions 1 and 2. */
interface LegacyState {
  readonly windows?: [string, unknown[], [number, string | number | null][], number][];
  readonly expiry?: [string, number][];
  readonly suppression: [string, number, Alert | null][];
  readonly suppressionExpiry: [string, number][];
}

/**
 * ISO text of times, equal times in a row sharing one string: alerts kept for suppression
 * hold these strings, and one alert's times are often equal (a filter's first, last and
 * firing times), as are the detection times of alerts raised within the same millisecond.
 */
class IsoCache {
  private ms = NaN;
  private text = "";

  of(ms: number): string {
    if (ms !== this.ms) {
      this.text = new Date(ms).toISOString();
      this.ms = ms;
    }
    return this.text;
  }
}

const eventIso = new IsoCache();
const wallIso = new IsoCache();

function toEntry(ev: EngineEvent, value: string | number | undefined): WindowEntry {
  return { ts: ev.ts, seq: ev.seq, event: ev, value };
}

/** Removes a window from its rule (and its key from the shared map once no rule holds it). */
function dropWindow(rt: RuleRuntime, w: SlidingWindow): void {
  w.slots[rt.slot] = undefined;
  rt.live--;
  rt.windows.release(rt.windows.keyOf(w.slots), w.slots);
  w.drop();
}

/** A window's key values as an array (a single by-field's value is stored bare). */
function keyValuesOf(rt: RuleRuntime, w: SlidingWindow): readonly unknown[] {
  return rt.singleKey ? [w.keyValues] : (w.keyValues as readonly unknown[]);
}

/** The value a threshold aggregates: a distinct key, a number, or null when the event cannot take part. */
function aggregatedValue(corr: CompiledThreshold, ev: EngineEvent): string | number | undefined | null {
  if (corr.field === undefined) return undefined;
  const v = firstScalar(corr.field.read(ev.fields));
  if (corr.agg === "distinct") {
    if (v === undefined || v === null) return null;
    return typeof v === "number" ? v : keyText(v);
  }
  // A numeric string as conditions read it (decimal only: "0x10" is no number).
  const n = toNumber(v);
  return Number.isFinite(n) ? n : null;
}

function aggregate(corr: CompiledThreshold, w: SlidingWindow): number {
  switch (corr.agg) {
    case "count":
      return w.size;
    case "distinct":
      return w.distinctCount();
    case "sum":
      return w.total();
    case "avg":
      return w.total() / w.size;
    case "min":
      return w.min();
    case "max":
      return w.max();
    default: {
      const never: never = corr.agg;
      return never;
    }
  }
}

function crosses(corr: CompiledThreshold, v: number): boolean {
  switch (corr.op) {
    case ">=":
      return v >= corr.value;
    case ">":
      return v > corr.value;
    case "<=":
      return v <= corr.value;
    case "<":
      return v < corr.value;
    default:
      return false;
  }
}

function planActions(rule: CompiledRule, ev: EngineEvent): PlannedAction[] {
  return rule.actions.map((a) => {
    const args: Record<string, unknown> = {};
    for (const [name, v] of a.args) args[name] = v.constant ? v.value : firstScalar(v.get(ev.fields));
    return { action: a.name, mode: a.mode, args };
  });
}
