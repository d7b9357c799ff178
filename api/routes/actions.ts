/** /v1/actions: response actions, approving queued ones and undoing done ones (issue 7). */
import type { ActionStatus } from "../../connectors/store/types.js";
import { ApiError, fromStoreError } from "../errors.js";
import { ID_PARAMS, objectSchema, principalOf, type RouteDeps, type RouteSpec } from "./spec.js";

export const ACTION_STATUSES: readonly ActionStatus[] = ["pending", "awaiting_approval", "done", "skipped", "failed", "reversed"];

export function actionRoutes({ store, ports }: RouteDeps): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/actions",
      access: "read",
      tag: "actions",
      summary: "Response actions, filtered by status or incident",
      schema: {
        querystring: objectSchema({
          status: { enum: ACTION_STATUSES },
          incident_id: { type: "string", minLength: 1, maxLength: 200 },
          limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
        }),
      },
      responses: { 200: "{ items }" },
      handler: async (req) => {
        const q = req.query as { status?: ActionStatus; incident_id?: string; limit: number };
        const filter = { ...(q.status !== undefined ? { status: q.status } : {}), ...(q.incident_id !== undefined ? { incident_id: q.incident_id } : {}) };
        return { items: await store.actions.list(filter, q.limit) };
      },
    },
    {
      method: "GET",
      url: "/v1/actions/:id",
      access: "read",
      tag: "actions",
      summary: "One response action",
      schema: { params: ID_PARAMS },
      responses: { 200: "The action" },
      errors: [404],
      handler: async (req) => {
        const { id } = req.params as { id: string };
        const action = await store.actions.get(id);
        if (action === undefined) throw new ApiError("E_NOT_FOUND", `no action ${id}`);
        return action;
      },
    },
    {
      method: "POST",
      url: "/v1/actions/:id/approve",
      access: "actions:write",
      tag: "actions",
      summary: "Approve an action that waits for approval (approve mode): it runs",
      schema: { params: ID_PARAMS },
      responses: { 200: "The action after approval" },
      errors: [404, 409],
      handler: async (req) => {
        const { id } = req.params as { id: string };
        const r = await ports.actions.approve(id, principalOf(req).actor);
        if (!r.ok) throw fromStoreError(r.error);
        return r.value;
      },
    },
    {
      method: "POST",
      url: "/v1/actions/:id/undo",
      access: "actions:write",
      tag: "actions",
      summary: "Undo a done action now (unblock, unlock …)",
      schema: { params: ID_PARAMS },
      responses: { 200: "The action after reversal" },
      errors: [404, 409],
      handler: async (req) => {
        const { id } = req.params as { id: string };
        const r = await ports.actions.undo(id, principalOf(req).actor);
        if (!r.ok) throw fromStoreError(r.error);
        return r.value;
      },
    },
  ];
}
