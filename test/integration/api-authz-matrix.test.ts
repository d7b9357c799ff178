/**
 * The authorisation matrix: every route the server registers × every role, no credentials,
 * an invalid key and an expired token → exactly the expected status. The least role of
 * each route is written here independently of api/permissions.ts, and a route registered
 * without a row here fails the first test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../connectors/store/types.js";
import { jwtFor, makeAlert, ROLE_LIST, startTestApi, type TestApi } from "../support/api.js";
import { type PgDatabase, withPgDatabase } from "../support/services.js";

type Caller = Role | "none" | "invalid key" | "expired token";
const CALLERS: readonly Caller[] = [...ROLE_LIST, "none", "invalid key", "expired token"];

interface Request {
  readonly url: string;
  readonly payload?: unknown;
  readonly headers?: Record<string, string>;
}

interface Row {
  readonly method: string;
  /** The route as registered (fastify syntax). */
  readonly route: string;
  /** Least role allowed, or public. */
  readonly least: Role | "public";
  /** Status of an allowed call. */
  readonly ok: number;
  /** A fresh, valid request (state it changes is created anew for each call). */
  readonly request: (api: TestApi) => Promise<Request>;
}

let n = 0;
async function freshIncident(api: TestApi): Promise<string> {
  const alert = makeAlert({ rule: "matrix", key: `10.9.${Math.floor(++n / 250)}.${n % 250}` });
  await api.store.write([alert], []);
  const detail = (await api.store.listAlerts({ rule: "matrix" }, 500, null)).items.find((a) => a.id === alert.id);
  if (detail === undefined) throw new Error("the seeded alert was not stored");
  return detail.incident_id;
}

async function freshAction(api: TestApi, status: "awaiting_approval" | "done"): Promise<string> {
  const id = `act_matrix_${++n}`;
  const base = { id, incident_id: null, alert_id: "matrix", action: "block_ip", args: { n }, created_at: new Date().toISOString(), reverse_at: null };
  await api.store.actions.claim({ ...base, mode: status === "done" ? "enforce" : "approve", status: status === "done" ? "pending" : "awaiting_approval" });
  if (status === "done") await api.store.actions.complete(id, { status: "done", reason: null, attempts: 1, reverse_at: null });
  return id;
}

const fixed = (url: string, payload?: unknown, headers?: Record<string, string>) => () =>
  Promise.resolve({ url, ...(payload !== undefined ? { payload } : {}), ...(headers !== undefined ? { headers } : {}) });

const MATRIX: readonly Row[] = [
  { method: "GET", route: "/healthz", least: "public", ok: 200, request: fixed("/healthz") },
  { method: "GET", route: "/readyz", least: "public", ok: 200, request: fixed("/readyz") },
  { method: "GET", route: "/metrics", least: "public", ok: 200, request: fixed("/metrics") },
  { method: "GET", route: "/v1/openapi.json", least: "public", ok: 200, request: fixed("/v1/openapi.json") },
  // @fastify/cors's preflight route; with no origin configured it answers 404 to everyone.
  { method: "OPTIONS", route: "*", least: "public", ok: 404, request: fixed("/v1/incidents", undefined, { origin: "https://x.example", "access-control-request-method": "GET" }) },

  { method: "GET", route: "/v1/incidents", least: "viewer", ok: 200, request: fixed("/v1/incidents?state=new&limit=5") },
  { method: "GET", route: "/v1/incidents/:id", least: "viewer", ok: 200, request: async (api) => ({ url: `/v1/incidents/${await freshIncident(api)}` }) },
  {
    method: "POST",
    route: "/v1/incidents/:id/transition",
    least: "analyst",
    ok: 200,
    request: async (api) => ({ url: `/v1/incidents/${await freshIncident(api)}/transition`, payload: { to: "acknowledged" } }),
  },
  { method: "POST", route: "/v1/incidents/:id/assign", least: "analyst", ok: 200, request: async (api) => ({ url: `/v1/incidents/${await freshIncident(api)}/assign`, payload: { assignee: "bob" } }) },
  { method: "POST", route: "/v1/incidents/:id/comments", least: "analyst", ok: 201, request: async (api) => ({ url: `/v1/incidents/${await freshIncident(api)}/comments`, payload: { text: "seen" } }) },
  { method: "POST", route: "/v1/incidents/:id/severity", least: "analyst", ok: 200, request: async (api) => ({ url: `/v1/incidents/${await freshIncident(api)}/severity`, payload: { severity: "low" } }) },
  { method: "GET", route: "/v1/alerts", least: "viewer", ok: 200, request: fixed("/v1/alerts?limit=5") },
  { method: "GET", route: "/v1/rules", least: "viewer", ok: 200, request: fixed("/v1/rules") },
  { method: "POST", route: "/v1/rules/check", least: "analyst", ok: 200, request: fixed("/v1/rules/check", { files: [{ path: "a.vigil", text: "" }] }) },
  { method: "POST", route: "/v1/rules/:name/enable", least: "admin", ok: 200, request: fixed("/v1/rules/ssh_bruteforce/enable") },
  { method: "POST", route: "/v1/rules/:name/disable", least: "admin", ok: 200, request: fixed("/v1/rules/ssh_bruteforce/disable") },
  { method: "POST", route: "/v1/rules/reload", least: "admin", ok: 200, request: fixed("/v1/rules/reload") },
  { method: "GET", route: "/v1/kpis", least: "viewer", ok: 200, request: fixed("/v1/kpis") },
  { method: "GET", route: "/v1/audit", least: "analyst", ok: 200, request: fixed("/v1/audit?format=csv&limit=5") },
  { method: "GET", route: "/v1/audit/verify", least: "analyst", ok: 200, request: fixed("/v1/audit/verify") },
  { method: "POST", route: "/v1/events", least: "analyst", ok: 202, request: fixed("/v1/events", '{"@timestamp":"2026-01-01T00:00:00Z"}\n', { "content-type": "application/x-ndjson" }) },
  { method: "GET", route: "/v1/actions", least: "viewer", ok: 200, request: fixed("/v1/actions") },
  { method: "GET", route: "/v1/actions/:id", least: "viewer", ok: 200, request: async (api) => ({ url: `/v1/actions/${await freshAction(api, "done")}` }) },
  { method: "POST", route: "/v1/actions/:id/approve", least: "responder", ok: 200, request: async (api) => ({ url: `/v1/actions/${await freshAction(api, "awaiting_approval")}/approve` }) },
  { method: "POST", route: "/v1/actions/:id/undo", least: "responder", ok: 200, request: async (api) => ({ url: `/v1/actions/${await freshAction(api, "done")}/undo` }) },
  { method: "GET", route: "/v1/keys", least: "admin", ok: 200, request: fixed("/v1/keys") },
  { method: "POST", route: "/v1/keys", least: "admin", ok: 201, request: fixed("/v1/keys", { name: "matrix", role: "viewer" }) },
  {
    method: "DELETE",
    route: "/v1/keys/:id",
    least: "admin",
    ok: 200,
    request: async (api) => ({ url: `/v1/keys/${(await api.store.apiKeys.create("doomed", "viewer", { kind: "system", id: "matrix" })).record.id}` }),
  },
];

function expected(row: Row, caller: Caller): number {
  if (row.least === "public") return row.ok;
  if (caller === "none" || caller === "invalid key" || caller === "expired token") return 401;
  return ROLE_LIST.indexOf(caller) >= ROLE_LIST.indexOf(row.least) ? row.ok : 403;
}

describe.each(["PGlite", "PostgreSQL"] as const)("authorisation matrix on %s", (backend) => {
  let api: TestApi;
  let db: PgDatabase | undefined;
  let expiredToken: string;

  beforeAll(async () => {
    if (backend === "PostgreSQL") db = await withPgDatabase();
    api = await startTestApi({ ...(db !== undefined ? { databaseUrl: db.url } : {}), options: { rateLimits: { perPrincipal: 10_000, perIp: 10_000 } } });
    expiredToken = await jwtFor({ sub: "mallory", role: "admin" }, { expSec: -3600 });
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  async function credentials(caller: Caller): Promise<Record<string, string>> {
    switch (caller) {
      case "none":
        return {};
      case "invalid key":
        return { "x-api-key": "vgl_this-key-was-never-issued-0000000000" };
      case "expired token":
        return { authorization: `Bearer ${expiredToken}` };
      default:
        // Half the roles by key, half by token, so both paths carry every role somewhere.
        return ROLE_LIST.indexOf(caller) % 2 === 0 ? { "x-api-key": api.keys[caller] } : { authorization: `Bearer ${await jwtFor({ sub: `user-${caller}`, role: caller })}` };
    }
  }

  it("has exactly one row per registered route", () => {
    const registered = api.app.vigilRoutes.map((r) => `${r.method} ${r.url}`).sort();
    const rows = MATRIX.map((r) => `${r.method} ${r.route}`).sort();
    expect(rows).toEqual(registered);
    // Public in the matrix exactly where the server says public.
    for (const r of api.app.vigilRoutes) {
      const row = MATRIX.find((m) => m.method === r.method && m.route === r.url);
      expect(row?.least === "public", `${r.method} ${r.url}`).toBe(r.access === "public");
    }
  });

  it.each(MATRIX.map((r) => [`${r.method} ${r.route}`, r] as const))("%s", async (_name, row) => {
    const actual: Record<string, number> = {};
    const want: Record<string, number> = {};
    for (const caller of CALLERS) {
      const req = await row.request(api);
      const res = await api.app.inject({
        method: row.method as "GET",
        url: req.url,
        headers: { ...(await credentials(caller)), ...req.headers },
        ...(req.payload !== undefined ? { payload: req.payload as string } : {}),
      });
      actual[caller] = res.statusCode;
      want[caller] = expected(row, caller);
      if (res.statusCode >= 400) expect(res.json<{ error: { code: string } }>().error.code, `${caller}: ${res.body}`).toMatch(/^E_/);
    }
    expect(actual).toEqual(want);
  });
});
