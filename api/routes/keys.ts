/** /v1/keys: API key management (admin). The secret is shown once, at creation. */
import { ApiError, fromStoreError } from "../errors.js";
import { ROLES } from "../permissions.js";
import { ID_PARAMS, objectSchema, principalOf, type RouteDeps, type RouteSpec } from "./spec.js";
import type { Role } from "../../connectors/store/types.js";

export function keyRoutes({ store }: RouteDeps): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/keys",
      access: "keys:admin",
      tag: "keys",
      summary: "API keys (never their secrets)",
      responses: { 200: "{ items }" },
      handler: async () => ({ items: await store.apiKeys.list() }),
    },
    {
      method: "POST",
      url: "/v1/keys",
      access: "keys:admin",
      tag: "keys",
      summary: "Create an API key; the secret is in this response only",
      schema: { body: objectSchema({ name: { type: "string", minLength: 1, maxLength: 200 }, role: { enum: ROLES } }, ["name", "role"]) },
      responses: { 201: "{ key, secret }" },
      handler: async (req, reply) => {
        const body = req.body as { name: string; role: Role };
        const { record, secret } = await store.apiKeys.create(body.name, body.role, principalOf(req).actor);
        void reply.code(201);
        void reply.header("cache-control", "no-store");
        return { key: record, secret };
      },
    },
    {
      method: "DELETE",
      url: "/v1/keys/:id",
      access: "keys:admin",
      tag: "keys",
      summary: "Revoke an API key",
      schema: { params: ID_PARAMS },
      responses: { 200: "The revoked key" },
      errors: [404, 409],
      handler: async (req) => {
        const { id } = req.params as { id: string };
        const me = principalOf(req).actor;
        if (me.kind === "api_key" && me.id === id) throw new ApiError("E_CONFLICT", "a key cannot revoke itself; use another admin key");
        const r = await store.apiKeys.revoke(id, me);
        if (!r.ok) throw fromStoreError(r.error);
        return r.value;
      },
    },
  ];
}
