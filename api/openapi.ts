/** The OpenAPI 3.1 document, built from the route table (served at /v1/openapi.json). */
import { ERROR_SCHEMA } from "./errors.js";
import { PERMISSIONS } from "./permissions.js";
import type { JsonSchema, RouteSpec } from "./routes/spec.js";

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: "Invalid request (error.field names the field at fault)",
  401: "Missing, invalid or expired credentials",
  403: "The caller's role lacks the route's permission",
  404: "Not found",
  409: "Conflict with the current state",
  413: "Body too large",
  415: "Unsupported media type",
  429: "Rate limited (see Retry-After)",
  503: "Not ready",
};

/** `/v1/incidents/:id` → `/v1/incidents/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function parameters(schema: JsonSchema | undefined, where: "path" | "query"): unknown[] {
  if (schema === undefined) return [];
  const props = (schema["properties"] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema["required"] ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s as { description?: string } & Record<string, unknown>;
    return {
      name,
      in: where,
      required: where === "path" || required.has(name),
      ...(description !== undefined ? { description } : {}),
      ...(rest["type"] === "array" ? { style: "form", explode: false } : {}),
      schema: rest,
    };
  });
}

export function buildOpenApi(routes: readonly RouteSpec[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(r.responses)) responses[status] = { description };
    const errorStatuses = new Set<number>([...(r.errors ?? []), 429]);
    if (r.schema?.body !== undefined || r.schema?.querystring !== undefined || r.schema?.params !== undefined || r.rawBody !== undefined) errorStatuses.add(400);
    if (r.access !== "public") {
      errorStatuses.add(401);
      errorStatuses.add(403);
    }
    for (const s of [...errorStatuses].sort()) {
      responses[String(s)] = { description: ERROR_DESCRIPTIONS[s] ?? "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
    }
    const operation: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${openApiPath(r.url).replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
      summary: r.summary,
      tags: [r.tag],
      parameters: [...parameters(r.schema?.params, "path"), ...parameters(r.schema?.querystring, "query")],
      responses,
      "x-permission": r.access,
      ...(r.access !== "public" ? { "x-least-role": PERMISSIONS[r.access], security: [{ apiKey: [] }, { bearer: [] }] } : { security: [] }),
    };
    if (r.schema?.body !== undefined) operation["requestBody"] = { required: true, content: { "application/json": { schema: r.schema.body } } };
    if (r.rawBody !== undefined) {
      operation["requestBody"] = { required: true, content: Object.fromEntries(r.rawBody.map((t) => [t, { schema: { type: "string" } }])) };
    }
    (paths[openApiPath(r.url)] ??= {})[r.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: { ...info, description: "Vigil's HTTP API: incidents, alerts, rules, KPIs, the audit log, response actions and event ingest." },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
      },
    },
  };
}
