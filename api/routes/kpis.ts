/** /v1/kpis: MTTD, MTTR, false-positive rate and coverage over a detection-time range. */
import { SEVERITIES, type Severity } from "../../dsl/index.js";
import { ApiError } from "../errors.js";
import { DATE_TIME, objectSchema, type RouteDeps, type RouteSpec } from "./spec.js";

const DAY_MS = 86_400_000;

export function kpiRoutes({ store }: RouteDeps, now: () => Date): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/kpis",
      access: "read",
      tag: "kpis",
      summary: "KPIs over [from, to) (default: the last 24 hours)",
      schema: {
        querystring: objectSchema({
          from: DATE_TIME,
          to: DATE_TIME,
          rule: { type: "string", minLength: 1, maxLength: 200 },
          severity: { enum: SEVERITIES },
          service: { type: "string", minLength: 1, maxLength: 200 },
          coverage_window_minutes: { type: "integer", minimum: 1, maximum: 10_080 },
        }),
      },
      responses: { 200: "The KPIs" },
      handler: async (req) => {
        const q = req.query as { from?: string; to?: string; rule?: string; severity?: Severity; service?: string; coverage_window_minutes?: number };
        const t = now();
        const to = q.to ?? t.toISOString();
        const from = q.from ?? new Date(Date.parse(to) - DAY_MS).toISOString();
        if (Date.parse(from) >= Date.parse(to)) throw new ApiError("E_VALIDATION", "'from' must be before 'to'", "/from");
        return store.kpis({
          from,
          to,
          now: t,
          ...(q.rule !== undefined ? { rule: q.rule } : {}),
          ...(q.severity !== undefined ? { severity: q.severity } : {}),
          ...(q.service !== undefined ? { service: q.service } : {}),
          ...(q.coverage_window_minutes !== undefined ? { coverageWindowMinutes: q.coverage_window_minutes } : {}),
        });
      },
    },
  ];
}
