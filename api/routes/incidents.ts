/** /v1/incidents: list with filters and cursor pagination, get with evidence, transition, assign, comment, re-grade. */
import type { IncidentFilter, IncidentState } from "../../connectors/store/types.js";
import { SEVERITIES, type Severity } from "../../dsl/index.js";
import { ApiError, fromStoreError } from "../errors.js";
import { CURSOR, DATE_TIME, ID_PARAMS, LIMIT, objectSchema, principalOf, type RouteDeps, type RouteSpec } from "./spec.js";

export const INCIDENT_STATES: readonly IncidentState[] = ["new", "acknowledged", "contained", "resolved", "false_positive"];

interface ListQuery {
  state?: IncidentState[];
  severity?: Severity[];
  rule?: string;
  assignee?: string;
  service?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

const text = (max: number) => ({ type: "string", minLength: 1, maxLength: max }) as const;

export function incidentRoutes({ store }: RouteDeps): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/incidents",
      access: "read",
      tag: "incidents",
      summary: "List incidents, newest detection first, with filters and cursor pagination",
      schema: {
        querystring: objectSchema({
          state: { type: "array", items: { enum: INCIDENT_STATES }, description: "comma-separated or repeated" },
          severity: { type: "array", items: { enum: SEVERITIES }, description: "comma-separated or repeated" },
          rule: text(200),
          assignee: text(200),
          service: text(200),
          from: { ...DATE_TIME, description: "detected at or after" },
          to: { ...DATE_TIME, description: "detected before" },
          limit: LIMIT,
          cursor: CURSOR,
        }),
      },
      responses: { 200: "A page: { items, next_cursor }" },
      handler: async (req) => {
        const q = req.query as ListQuery;
        const filter: IncidentFilter = {
          ...(q.state ? { state: q.state } : {}),
          ...(q.severity ? { severity: q.severity } : {}),
          ...(q.rule !== undefined ? { rule: q.rule } : {}),
          ...(q.assignee !== undefined ? { assignee: q.assignee } : {}),
          ...(q.service !== undefined ? { service: q.service } : {}),
          ...(q.from !== undefined ? { from: q.from } : {}),
          ...(q.to !== undefined ? { to: q.to } : {}),
        };
        return store.listIncidents(filter, q.limit, q.cursor ?? null);
      },
    },
    {
      method: "GET",
      url: "/v1/incidents/:id",
      access: "read",
      tag: "incidents",
      summary: "One incident with its alerts, evidence events, transitions, comments and response actions",
      schema: { params: ID_PARAMS },
      responses: { 200: "The incident" },
      errors: [404],
      handler: async (req) => {
        const { id } = req.params as { id: string };
        const incident = await store.getIncident(id);
        if (incident === undefined) throw new ApiError("E_NOT_FOUND", `no incident ${id}`);
        return incident;
      },
    },
    {
      method: "POST",
      url: "/v1/incidents/:id/transition",
      access: "incidents:write",
      tag: "incidents",
      summary: "Move an incident to another state (new → acknowledged → contained → resolved, or false_positive)",
      schema: { params: ID_PARAMS, body: objectSchema({ to: { enum: INCIDENT_STATES }, reason: { type: ["string", "null"], maxLength: 2000 } }, ["to"]) },
      responses: { 200: "The incident after the transition" },
      errors: [404, 409],
      handler: async (req) => {
        const { id } = req.params as { id: string };
        const body = req.body as { to: IncidentState; reason?: string | null };
        const r = await store.transition(id, body.to, principalOf(req).actor, body.reason ?? null);
        if (!r.ok) throw fromStoreError(r.error);
        return r.value;
      },
    },
    {
      method: "POST",
      url: "/v1/incidents/:id/assign",
      access: "incidents:write",
      tag: "incidents",
      summary: "Assign an incident to someone, or unassign it with null",
      schema: { params: ID_PARAMS, body: objectSchema({ assignee: { type: ["string", "null"], minLength: 1, maxLength: 200 } }, ["assignee"]) },
      responses: { 200: "The incident after the assignment" },
      errors: [404],
      handler: async (req) => {
        const { id } = req.params as { id: string };
        const body = req.body as { assignee: string | null };
        const r = await store.assign(id, body.assignee, principalOf(req).actor);
        if (!r.ok) throw fromStoreError(r.error);
        return r.value;
      },
    },
    {
      method: "POST",
      url: "/v1/incidents/:id/comments",
      access: "incidents:write",
      tag: "incidents",
      summary: "Add a comment to an incident",
      schema: { params: ID_PARAMS, body: objectSchema({ text: { type: "string", minLength: 1, maxLength: 10_000 } }, ["text"]) },
      responses: { 201: "The comment" },
      errors: [404],
      handler: async (req, reply) => {
        const { id } = req.params as { id: string };
        const body = req.body as { text: string };
        const r = await store.comment(id, body.text, principalOf(req).actor);
        if (!r.ok) throw fromStoreError(r.error);
        void reply.code(201);
        return r.value;
      },
    },
    {
      method: "POST",
      url: "/v1/incidents/:id/severity",
      access: "incidents:write",
      tag: "incidents",
      summary: "Re-grade an incident's severity",
      schema: { params: ID_PARAMS, body: objectSchema({ severity: { enum: SEVERITIES } }, ["severity"]) },
      responses: { 200: "The incident after the change" },
      errors: [404],
      handler: async (req) => {
        const { id } = req.params as { id: string };
        const body = req.body as { severity: Severity };
        const r = await store.setSeverity(id, body.severity, principalOf(req).actor);
        if (!r.ok) throw fromStoreError(r.error);
        return r.value;
      },
    },
  ];
}
