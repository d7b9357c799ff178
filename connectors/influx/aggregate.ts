/**
 * In-memory aggregation of Vigil's metrics per interval, turned into InfluxDB points when the
 * interval closes. Counting is allocation-free once a (service, category) or (rule, severity)
 * pair has been seen: two map lookups (one when the pair repeats) and an increment.
 */
import type { IPoint } from "influx";
import type { Kpis } from "../store/types.js";

/** Measurement names (see docs/influx.md). */
export const MEASUREMENTS = {
  events: "vigil_events",
  alerts: "vigil_alerts",
  anomaly: "vigil_anomaly",
  kpis: "vigil_kpis",
} as const;

/** InfluxDB rejects an empty tag value; such values are written as this. */
export const EMPTY_TAG = "none";

/** A mutable count for one tag pair. */
interface Counter {
  readonly a: string;
  readonly b: string;
  n: number;
}

/** Counts per (a, b) tag pair; counters idle for a whole interval are forgotten. */
class PairCounts {
  private readonly byA = new Map<string, Map<string, Counter>>();
  private last: Counter | undefined;

  add(a: string, b: string): void {
    const last = this.last;
    if (last !== undefined && last.a === a && last.b === b) {
      last.n++;
      return;
    }
    let inner = this.byA.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.byA.set(a, inner);
    }
    let c = inner.get(b);
    if (c === undefined) {
      c = { a, b, n: 0 };
      inner.set(b, c);
    }
    c.n++;
    this.last = c;
  }

  /** Calls `f` for each non-zero count and resets it; drops the idle ones. */
  drain(f: (a: string, b: string, n: number) => void): void {
    for (const [a, inner] of this.byA) {
      for (const [b, c] of inner) {
        if (c.n === 0) {
          inner.delete(b);
          if (this.last === c) this.last = undefined;
          continue;
        }
        f(a, b, c.n);
        c.n = 0;
      }
      if (inner.size === 0) this.byA.delete(a);
    }
  }
}

const tag = (s: string): string => (s === "" ? EMPTY_TAG : s);

export interface AggregatorOptions {
  /** Most anomaly points kept per interval (the rest are counted as dropped). */
  readonly maxAnomalyPointsPerInterval?: number;
}

export const DEFAULT_MAX_ANOMALY_POINTS = 10_000;

/** Aggregates one interval at a time; {@link Aggregator.roll} closes it. */
export class Aggregator {
  private readonly events = new PairCounts();
  private readonly alerts = new PairCounts();
  private anomalies: IPoint[] = [];
  private kpiPoints: IPoint[] = [];
  private readonly maxAnomalies: number;
  /** Anomaly points refused since the last roll (over the per-interval bound). */
  droppedAnomalies = 0;

  constructor(opts: AggregatorOptions = {}) {
    this.maxAnomalies = opts.maxAnomalyPointsPerInterval ?? DEFAULT_MAX_ANOMALY_POINTS;
  }

  countEvent(service: string, category: string): void {
    this.events.add(service, category);
  }

  countAlert(rule: string, severity: string): void {
    this.alerts.add(rule, severity);
  }

  anomalyScore(model: string, entity: string, score: number, ts: number): void {
    if (!Number.isFinite(score) || !Number.isFinite(ts)) return;
    if (this.anomalies.length >= this.maxAnomalies) {
      this.droppedAnomalies++;
      return;
    }
    this.anomalies.push({ measurement: MEASUREMENTS.anomaly, tags: { model: tag(model), entity: tag(entity) }, fields: { score }, timestamp: Math.round(ts) });
  }

  kpis(k: Kpis, ts: number): void {
    const fields: Record<string, number> = { incidents: k.incidents, alerts: k.alerts };
    const put = (name: string, v: number | null | undefined) => {
      if (v !== null && v !== undefined && Number.isFinite(v)) fields[name] = v;
    };
    put("mttd_ms", k.mttd_ms);
    put("mttr_contain_ms", k.mttr_contain_ms);
    put("mttr_resolve_ms", k.mttr_resolve_ms);
    put("false_positive_rate", k.false_positive_rate);
    if (k.coverage !== null) {
      put("coverage_expected", k.coverage.expected);
      put("coverage_seen", k.coverage.seen);
      put("coverage_ratio", k.coverage.ratio);
      put("coverage_missing", k.coverage.missing.length);
    }
    this.kpiPoints.push({ measurement: MEASUREMENTS.kpis, fields, timestamp: Math.round(ts) });
  }

  /**
   * Closes the interval that ends at `ts` (epoch ms) and lasted `intervalMs`: the points of
   * its counts (stamped `ts`, with `count` and `rate` per second) and the anomaly and KPI
   * points given during it. Empty when nothing happened.
   */
  roll(ts: number, intervalMs: number): IPoint[] {
    const points: IPoint[] = [];
    const seconds = Math.max(intervalMs, 1) / 1000;
    this.events.drain((service, category, n) => {
      points.push({ measurement: MEASUREMENTS.events, tags: { service: tag(service), category: tag(category) }, fields: { count: n, rate: n / seconds }, timestamp: ts });
    });
    this.alerts.drain((rule, severity, n) => {
      points.push({ measurement: MEASUREMENTS.alerts, tags: { rule: tag(rule), severity: tag(severity) }, fields: { count: n, rate: n / seconds }, timestamp: ts });
    });
    if (this.anomalies.length > 0) {
      for (const p of this.anomalies) points.push(p);
      this.anomalies = [];
    }
    if (this.kpiPoints.length > 0) {
      for (const p of this.kpiPoints) points.push(p);
      this.kpiPoints = [];
    }
    return points;
  }
}
