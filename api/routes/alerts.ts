/** /v1/alerts: alerts with their evidence and planned actions, filtered, cursor-paginated. */
import type { AlertFilter } from "../../connectors/store/types.js";
import { SEVERITIES, type Severity } from "../../dsl/index.js";
import { CURSOR, DATE_TIME, LIMIT, objectSchema, type RouteDeps, type RouteSpec } from "./spec.js";

interface ListQuery {
  rule?: string;
  severity?: Severity[];
  incident_id?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

export function alertRoutes({ store }: RouteDeps): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/alerts",
      access: "read",
      tag: "alerts",
      summary: "List alerts, newest first, with filters and cursor pagination",
      schema: {
        querystring: objectSchema({
          rule: { type: "string", minLength: 1, maxLength: 200 },
          severity: { type: "array", items: { enum: SEVERITIES }, description: "comma-separated or repeated" },
          incident_id: { type: "string", minLength: 1, maxLength: 200 },
          from: DATE_TIME,
          to: DATE_TIME,
          limit: LIMIT,
          cursor: CURSOR,
        }),
      },
      responses: { 200: "A page: { items, next_cursor }" },
      handler: async (req) => {
        const q = req.query as ListQuery;
        const filter: AlertFilter = {
          ...(q.rule !== undefined ? { rule: q.rule } : {}),
          ...(q.severity ? { severity: q.severity } : {}),
          ...(q.incident_id !== undefined ? { incident_id: q.incident_id } : {}),
          ...(q.from !== undefined ? { from: q.from } : {}),
          ...(q.to !== undefined ? { to: q.to } : {}),
        };
        return store.listAlerts(filter, q.limit, q.cursor ?? null);
      },
    },
  ];
}
