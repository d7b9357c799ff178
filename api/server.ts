/**
 * The HTTP API: `createApiServer(options)` builds a fastify instance with every route of
 * the route table, authentication (API keys, JWT), a permission per route, rate limits per
 * caller and per IP, JSON-schema validation with a uniform error envelope, CORS limited to
 * configured origins, request metrics and the OpenAPI document. `vigil run` listens on it.
 *
 * @example
 * const app = await createApiServer({ store, ports, metricsRegistry: new Registry() });
 * await app.listen({ port: 8018 });
 */
import cors from "@fastify/cors";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { stdSerializers, type Logger } from "pino";
import type { Registry } from "prom-client";
import type { IncidentStore } from "../connectors/store/types.js";
import { type AuthOptions, Authenticator, type Principal } from "./auth.js";
import { StoreInputError } from "../connectors/store/errors.js";
import { ApiError, fromStoreError } from "./errors.js";
import { httpMetrics } from "./metrics.js";
import { buildOpenApi } from "./openapi.js";
import { type Access, allows, PERMISSIONS } from "./permissions.js";
import type { ApiPorts } from "./ports.js";
import { SlidingWindowLimiter } from "./rate-limit.js";
import { actionRoutes } from "./routes/actions.js";
import { alertRoutes } from "./routes/alerts.js";
import { auditRoutes } from "./routes/audit.js";
import { eventRoutes } from "./routes/events.js";
import { incidentRoutes } from "./routes/incidents.js";
import { keyRoutes } from "./routes/keys.js";
import { kpiRoutes } from "./routes/kpis.js";
import { ruleRoutes } from "./routes/rules.js";
import type { JsonSchema, RouteDeps, RouteSpec } from "./routes/spec.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated caller; null on public routes. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyInstance {
    /** Every route fastify registered (including plugins'), with the access it requires. */
    readonly vigilRoutes: readonly RegisteredRoute[];
  }
}

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
}

export interface RateLimitSettings {
  /** Requests per window per API key or JWT subject. Default 100. */
  readonly perPrincipal: number;
  /** Requests per window per client IP. Default 500. */
  readonly perIp: number;
  /** Default 60 000 ms. */
  readonly windowMs: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { perPrincipal: 100, perIp: 500, windowMs: 60_000 };

export interface ApiServerOptions {
  readonly store: IncidentStore;
  readonly ports: ApiPorts;
  /** JWT verification; bearer tokens are refused without it. */
  readonly auth?: AuthOptions;
  /** A secret to keep as an admin API key (VIGIL_BOOTSTRAP_API_KEY); at least 24 characters. */
  readonly bootstrapApiKey?: string;
  readonly rateLimits?: Partial<RateLimitSettings>;
  /** Origins allowed by CORS (VIGIL_CORS_ORIGINS); none by default. */
  readonly corsOrigins?: readonly string[];
  /** Request logs go to a child of it, with credentials redacted. No logs when absent. */
  readonly logger?: Logger;
  /** What /metrics serves; the API adds its HTTP request metrics to it. */
  readonly metricsRegistry: Registry;
  /** Largest JSON body. Default 1 MiB. */
  readonly bodyLimitBytes?: number;
  /** Largest event-ingest body. Default 10 MiB. */
  readonly ingestBodyLimitBytes?: number;
  /** fastify's trustProxy: whose X-Forwarded-For to believe for the client IP. Default false. */
  readonly trustProxy?: boolean | string | string[];
  /** The clock (rate limits, KPI defaults), for tests. */
  readonly now?: () => Date;
}

export const MIN_BOOTSTRAP_KEY_LENGTH = 24;
const REDACTED_PATHS = ["req.headers.authorization", 'req.headers["x-api-key"]', "headers.authorization", 'headers["x-api-key"]', "secret", "*.secret"];

function serializeRequest(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: req.url, host: req.hostname, remoteAddress: req.ip, userAgent: req.headers["user-agent"] };
}

function serializeReply(reply: FastifyReply): Record<string, unknown> {
  return { statusCode: reply.statusCode };
}

/** The 400 of a failed JSON-schema validation, naming the field at fault. */
function validationError(err: FastifyError): ApiError {
  const first = err.validation?.[0];
  if (first === undefined) return new ApiError("E_VALIDATION", err.message);
  const params: Record<string, unknown> = first.params;
  let field = first.instancePath;
  if (first.keyword === "required" && typeof params["missingProperty"] === "string") field += `/${params["missingProperty"]}`;
  if (first.keyword === "additionalProperties" && typeof params["additionalProperty"] === "string") {
    field += `/${params["additionalProperty"]}`;
    return new ApiError("E_VALIDATION", `${err.validationContext ?? "request"}: unknown field ${field}`, field);
  }
  const allowed = Array.isArray(params["allowedValues"]) ? `: ${(params["allowedValues"] as unknown[]).map(String).join(", ")}` : "";
  const example = first.keyword === "format" && params["format"] === "date-time" ? " (RFC 3339, e.g. 2026-12-04T00:00:00Z)" : "";
  return new ApiError("E_VALIDATION", `${err.validationContext ?? "request"}${field === "" ? "" : ` ${field}`} ${first.message ?? "is invalid"}${allowed}${example}`, field === "" ? "/" : field);
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // A store method without a Result refused its input (a bad cursor): the caller can act on it.
  if (err instanceof StoreInputError) return fromStoreError(err);
  const fe = err as FastifyError;
  if (fe.validation !== undefined) return validationError(fe);
  switch (fe.statusCode) {
    case 400:
      return new ApiError("E_VALIDATION", fe.message);
    case 404:
      return new ApiError("E_NOT_FOUND", fe.message);
    case 413:
      return new ApiError("E_PAYLOAD_TOO_LARGE", fe.message);
    case 415:
      return new ApiError("E_UNSUPPORTED_MEDIA_TYPE", `${fe.message}: send application/json (POST /v1/events also takes application/x-ndjson and text/plain)`);
    default:
      return new ApiError("E_INTERNAL", "internal error; see the server log");
  }
}

/** Splits comma-separated values of the querystring's array properties (`state=new,acknowledged`). */
function splitCsvArrays(querystring: JsonSchema | undefined): ((req: FastifyRequest) => Promise<void>) | undefined {
  const props = (querystring?.["properties"] ?? {}) as Record<string, JsonSchema>;
  const arrays = Object.entries(props).filter(([, s]) => s["type"] === "array").map(([k]) => k);
  if (arrays.length === 0) return undefined;
  return async (req) => {
    const q = req.query as Record<string, unknown>;
    for (const k of arrays) {
      const v = q[k];
      if (typeof v === "string") q[k] = v.split(",");
      else if (Array.isArray(v)) q[k] = (v as unknown[]).flatMap((x): unknown[] => (typeof x === "string" ? x.split(",") : [x]));
    }
    return Promise.resolve();
  };
}

function rateLimited(scope: string, retryAfterMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiError("E_RATE_LIMITED", `too many requests from this ${scope}; retry in ${seconds} s`, undefined, { "Retry-After": String(seconds) });
}

/** The route table: every route of the API but the probes, metrics and the OpenAPI document. */
export function apiRoutes(deps: RouteDeps, now: () => Date): RouteSpec[] {
  return [
    ...incidentRoutes(deps),
    ...alertRoutes(deps),
    ...ruleRoutes(deps),
    ...kpiRoutes(deps, now),
    ...auditRoutes(deps),
    ...eventRoutes(deps),
    ...actionRoutes(deps),
    ...keyRoutes(deps),
  ];
}

/** Keeps `secret` as an admin API key (idempotent). Throws on a secret too short to be one. */
export async function bootstrapAdminKey(store: IncidentStore, secret: string): Promise<void> {
  if (secret.length < MIN_BOOTSTRAP_KEY_LENGTH) {
    throw new RangeError(`VIGIL_BOOTSTRAP_API_KEY must be at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters`);
  }
  await store.apiKeys.bootstrap(secret, "admin");
}

export async function createApiServer(opts: ApiServerOptions): Promise<FastifyInstance> {
  const now = opts.now ?? (() => new Date());
  const limits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits };
  const clock = () => now().getTime();
  const ipLimiter = new SlidingWindowLimiter({ limit: limits.perIp, windowMs: limits.windowMs, now: clock });
  const principalLimiter = new SlidingWindowLimiter({ limit: limits.perPrincipal, windowMs: limits.windowMs, now: clock });
  const authenticator = new Authenticator(opts.store.apiKeys, opts.auth);
  if (opts.bootstrapApiKey !== undefined) await bootstrapAdminKey(opts.store, opts.bootstrapApiKey);

  const logger = opts.logger?.child(
    { component: "api" },
    { redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, serializers: { req: serializeRequest, res: serializeReply, err: stdSerializers.err } },
  );
  const app = Fastify({
    ...(logger !== undefined ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: opts.bodyLimitBytes ?? 1_048_576,
    trustProxy: opts.trustProxy ?? false,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true, allErrors: false } },
  }) as unknown as FastifyInstance;

  const registered: RegisteredRoute[] = [];
  app.decorate("vigilRoutes", registered);
  app.decorateRequest("principal", null);
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const access = route.config?.access;
    for (const method of methods) {
      // The only route without an access is @fastify/cors's preflight (OPTIONS *): it carries no data.
      if (access === undefined && method !== "OPTIONS") throw new Error(`route ${method} ${route.url} declares no access (a permission or "public")`);
      registered.push({ method, url: route.url, access: access ?? "public" });
    }
  });

  await app.register(cors, { origin: opts.corsOrigins !== undefined && opts.corsOrigins.length > 0 ? [...opts.corsOrigins] : false });

  const metrics = httpMetrics(opts.metricsRegistry);
  app.addHook("onRequest", async (req) => {
    const access = req.routeOptions.config.access;
    const byIp = ipLimiter.take(req.ip);
    if (!byIp.ok) throw rateLimited("address", byIp.retryAfterMs);
    if (access === undefined || access === "public") return;
    const who = await authenticator.authenticate(req.headers);
    if (who instanceof ApiError) throw who;
    const byCaller = principalLimiter.take(who.bucket);
    if (!byCaller.ok) throw rateLimited(who.actor.kind === "api_key" ? "API key" : "user", byCaller.retryAfterMs);
    if (!allows(who.role, access)) {
      throw new ApiError("E_FORBIDDEN", `the ${who.role} role may not do this; it needs the ${access} permission (${PERMISSIONS[access]} or above)`);
    }
    req.principal = who;
  });
  app.addHook("onResponse", async (req, reply) => {
    metrics.observe(req.method, req.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
    return Promise.resolve();
  });

  app.setErrorHandler((err, req, reply) => {
    const e = toApiError(err);
    if (e.status >= 500) req.log.error({ err }, "request failed");
    return reply.code(e.status).headers(e.headers).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(new ApiError("E_NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0] ?? ""}`).body()));

  const deps: RouteDeps = { store: opts.store, ports: opts.ports };
  const routes = apiRoutes(deps, now);
  const document = buildOpenApi(routes, { title: "Vigil", version: "1" });

  // Probes, metrics and the API description: no credentials.
  app.get("/healthz", { config: { access: "public" } }, (_req, reply) => reply.send({ status: "ok" }));
  app.get("/readyz", { config: { access: "public" } }, async (_req, reply) => {
    const report = await opts.ports.readiness.check();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get("/metrics", { config: { access: "public" } }, async (_req, reply) => {
    return reply.header("content-type", opts.metricsRegistry.contentType).send(await opts.metricsRegistry.metrics());
  });
  app.get("/v1/openapi.json", { config: { access: "public" } }, (_req, reply) => reply.send(document));

  const register = (scope: FastifyInstance, r: RouteSpec): void => {
    const preValidation = splitCsvArrays(r.schema?.querystring);
    scope.route({
      method: r.method,
      url: r.url,
      config: { access: r.access },
      ...(r.schema !== undefined ? { schema: r.schema } : {}),
      ...(preValidation !== undefined ? { preValidation } : {}),
      handler: r.handler,
    });
  };
  for (const r of routes) if (r.rawBody === undefined) register(app, r);
  // Raw-body routes (event ingest) get their own parsers: the body reaches the handler as a Buffer.
  const raw = routes.filter((r) => r.rawBody !== undefined);
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    const types = [...new Set(raw.flatMap((r) => r.rawBody ?? []))];
    if (types.length > 0) {
      scope.addContentTypeParser(types, { parseAs: "buffer", bodyLimit: opts.ingestBodyLimitBytes ?? 10 * 1_048_576 }, (_req, body, done) => done(null, body));
    }
    for (const r of raw) register(scope, r);
    return Promise.resolve();
  });
  return app;
}
