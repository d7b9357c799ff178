/**
 * KPIs computed from the store for a detection-time range, optionally per rule, severity
 * and service:
 * - MTTD: mean of detected_at − first_event_at over the incidents detected live: an incident
 *   detected more than an hour (wall clock) after its rule fired (event time) came from a
 *   backfill or a replay of old logs, and is counted apart (`mttd_excluded`), not averaged in.
 * - MTTR (containment): mean of (contained_at, or resolved_at when containment was never
 *   recorded) − detected_at, over incidents that got there and were not false positives.
 * - MTTR (resolution): mean of resolved_at − detected_at over resolved incidents.
 * - False-positive rate: closed as false positive / (resolved + false positive).
 * - Alert volume: alerts detected in the range (filters on the alert's rule and severity,
 *   and its incident's service).
 * - Coverage: expected services seen emitting in the last N minutes / expected services.
 */
import type { KpiQuery, Kpis } from "./types.js";
import type { Queryable } from "./db.js";
import { num, numOrNull } from "./rows.js";

export const DEFAULT_COVERAGE_WINDOW_MINUTES = 15;

const ms = (expr: string): string => `(extract(epoch from (${expr})) * 1000)`;

/** Longest gap between firing (event time) and detection (wall clock) of a live detection. */
export const BACKFILL_AFTER_MS = 3_600_000;
const LIVE = `detected_at - first_fired_at <= interval '${BACKFILL_AFTER_MS / 1000} seconds'`;

export async function computeKpis(db: Queryable, q: KpiQuery & { coverageWindowMinutes?: number; now?: Date }): Promise<Kpis> {
  const params = [q.from, q.to, q.rule ?? null, q.severity ?? null, q.service ?? null];
  const contained = "coalesce(contained_at, resolved_at)";
  const [row] = await db.query(
    `SELECT count(*)::int AS incidents,
       (avg(${ms("detected_at - first_event_at")}) FILTER (WHERE ${LIVE}))::float8 AS mttd,
       count(*) FILTER (WHERE NOT ${LIVE})::int AS mttd_excluded,
       (avg(${ms(`${contained} - detected_at`)}) FILTER (WHERE state <> 'false_positive' AND ${contained} IS NOT NULL))::float8 AS mttr_contain,
       (avg(${ms("resolved_at - detected_at")}) FILTER (WHERE state = 'resolved' AND resolved_at IS NOT NULL))::float8 AS mttr_resolve,
       count(*) FILTER (WHERE state = 'false_positive')::int AS false_positives,
       count(*) FILTER (WHERE state IN ('resolved', 'false_positive'))::int AS closed
     FROM incidents
     WHERE detected_at >= $1::timestamptz AND detected_at < $2::timestamptz
       AND ($3::text IS NULL OR rule = $3) AND ($4::text IS NULL OR severity = $4) AND ($5::text IS NULL OR service = $5)`,
    params,
  );
  const [alerts] = await db.query(
    `SELECT count(*)::int AS n FROM alerts a JOIN incidents i ON i.id = a.incident_id
     WHERE a.detected_at >= $1::timestamptz AND a.detected_at < $2::timestamptz
       AND ($3::text IS NULL OR a.rule = $3) AND ($4::text IS NULL OR a.severity = $4) AND ($5::text IS NULL OR i.service = $5)`,
    params,
  );
  const closed = num(row?.closed ?? 0);
  return {
    from: q.from,
    to: q.to,
    incidents: num(row?.incidents ?? 0),
    alerts: num(alerts?.n ?? 0),
    mttd_ms: numOrNull(row?.mttd),
    mttd_excluded: num(row?.mttd_excluded ?? 0),
    mttr_contain_ms: numOrNull(row?.mttr_contain),
    mttr_resolve_ms: numOrNull(row?.mttr_resolve),
    false_positive_rate: closed === 0 ? null : num(row?.false_positives ?? 0) / closed,
    coverage: await coverage(db, q.coverageWindowMinutes ?? DEFAULT_COVERAGE_WINDOW_MINUTES, q.now ?? new Date()),
  };
}

async function coverage(db: Queryable, windowMinutes: number, now: Date): Promise<Kpis["coverage"]> {
  const since = new Date(now.getTime() - windowMinutes * 60_000).toISOString();
  const rows = await db.query<{ service: string; seen: boolean }>(
    `SELECT e.service, (s.last_seen_at IS NOT NULL AND s.last_seen_at >= $1::timestamptz) AS seen
     FROM expected_services e LEFT JOIN services_seen s ON s.service = e.service ORDER BY e.service`,
    [since],
  );
  if (rows.length === 0) return null;
  const missing = rows.filter((r) => !r.seen).map((r) => r.service);
  const seen = rows.length - missing.length;
  return { expected: rows.length, seen, ratio: seen / rows.length, missing };
}
