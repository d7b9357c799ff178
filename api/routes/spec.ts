/**
 * A route as the API declares it: method, path, who may call it, its JSON schemas and its
 * handler. The server registers these with fastify and builds the OpenAPI document from
 * the same table, so the two cannot drift.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { IncidentStore } from "../../connectors/store/types.js";
import type { Principal } from "../auth.js";
import { ApiError } from "../errors.js";
import type { Access } from "../permissions.js";
import type { ApiPorts } from "../ports.js";

/** A JSON schema, as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface RouteSpec {
  readonly method: "GET" | "POST" | "DELETE";
  /** fastify path syntax (`/v1/incidents/:id`). */
  readonly url: string;
  readonly access: Access;
  readonly summary: string;
  readonly tag: string;
  readonly schema?: { readonly params?: JsonSchema; readonly querystring?: JsonSchema; readonly body?: JsonSchema };
  /** Media types of a raw body (the handler gets a Buffer); JSON when absent. */
  readonly rawBody?: readonly string[];
  /** Success status → description. */
  readonly responses: Readonly<Record<number, string>>;
  /** Error statuses this route can answer besides auth, rate limit and validation. */
  readonly errors?: readonly number[];
  readonly handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

export interface RouteDeps {
  readonly store: IncidentStore;
  readonly ports: ApiPorts;
}

/** The authenticated caller of a route that is not public. */
export function principalOf(req: FastifyRequest): Principal {
  const p = req.principal;
  if (p === null) throw new ApiError("E_UNAUTHENTICATED", "credentials required");
  return p;
}

export const ID_PARAMS = {
  type: "object",
  required: ["id"],
  additionalProperties: false,
  properties: { id: { type: "string", minLength: 1, maxLength: 200 } },
} as const;

export const LIMIT = { type: "integer", minimum: 1, maximum: 500, default: 50 } as const;
export const CURSOR = { type: "string", minLength: 1, maxLength: 2000, description: "opaque, from next_cursor of the previous page" } as const;
export const DATE_TIME = { type: "string", format: "date-time" } as const;

/** Any JSON object the body may be, with no properties beyond `properties`. */
export function objectSchema(properties: Record<string, JsonSchema>, required: readonly string[] = []): JsonSchema {
  return { type: "object", additionalProperties: false, required, properties };
}
