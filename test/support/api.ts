/**
 * A real API for tests: the real incident store (PGlite in memory, or PostgreSQL), the
 * real decoding ingest and pack rule admin, and small in-process adapters for readiness and
 * action control over the store. Keys of every role are created through the store.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { SignJWT } from "jose";
import { Registry } from "prom-client";
import type { Logger } from "pino";
import { createDecodingIngest } from "../../api/ingest.js";
import type { ActionControl, ApiPorts, Readiness, ReadinessReport } from "../../api/ports.js";
import { createPackRuleAdmin } from "../../api/rule-admin.js";
import { createApiServer, type ApiServerOptions } from "../../api/server.js";
import { openStore } from "../../connectors/store/index.js";
import type { Actor, IncidentStore, ResponseActionRecord, Result, Role } from "../../connectors/store/types.js";
import type { Alert } from "../../engine/index.js";
import type { EventFields } from "../../engine/index.js";

export const JWT_SECRET = "test-secret-for-vigil-api-0123456789abcdef";
export const ROLE_LIST: readonly Role[] = ["viewer", "analyst", "responder", "admin"];

/** Approve and undo over the store's ledger (the responders' real executor is wired by `vigil run`). */
export function ledgerActionControl(store: IncidentStore, now: () => Date = () => new Date()): ActionControl {
  const get = async (id: string): Promise<Result<ResponseActionRecord>> => {
    const a = await store.actions.get(id);
    return a === undefined ? { ok: false, error: { code: "E_NOT_FOUND", message: `no action ${id}` } } : { ok: true, value: a };
  };
  return {
    async approve(id: string, actor: Actor) {
      const a = await get(id);
      if (!a.ok) return a;
      if (!(await store.actions.approve(id, actor))) return { ok: false, error: { code: "E_CONFLICT", message: `action ${id} is ${a.value.status}, not awaiting approval` } };
      return get(id);
    },
    async undo(id: string, actor: Actor) {
      const a = await get(id);
      if (!a.ok) return a;
      if (a.value.status !== "done") return { ok: false, error: { code: "E_CONFLICT", message: `action ${id} is ${a.value.status}; only a done action can be undone` } };
      await store.actions.markReversed(id, now());
      await store.audit.append(actor, "action.undo", id, {});
      return get(id);
    },
  };
}

/** Ready when the store answers a query; `down` forces not-ready (a dependency lost). */
export function storeReadiness(store: IncidentStore): Readiness & { down: boolean } {
  return {
    down: false,
    async check(): Promise<ReadinessReport> {
      if (this.down) return { ready: false, checks: { store: { ok: true }, nats: { ok: false, detail: "disconnected" } } };
      try {
        await store.listIncidents({}, 1, null);
        return { ready: true, checks: { store: { ok: true } } };
      } catch (e) {
        return { ready: false, checks: { store: { ok: false, detail: e instanceof Error ? e.message : String(e) } } };
      }
    },
  };
}

export interface TestApi {
  readonly app: FastifyInstance;
  readonly store: IncidentStore;
  /** An API key secret per role. */
  readonly keys: Readonly<Record<Role, string>>;
  readonly keyIds: Readonly<Record<Role, string>>;
  /** Events the ingest delivered. */
  readonly delivered: EventFields[];
  readonly readiness: ReturnType<typeof storeReadiness>;
  /** Files the rule admin reloads from (edit to test reload). */
  readonly packFiles: { path: string; text: string }[];
  readonly registry: Registry;
  close(): Promise<void>;
}

/** A one-rule pack (the shipped ssh_bruteforce): the API tests count rules, so not the whole shipped pack. */
export const AUTH_PACK = resolve(import.meta.dirname, "../fixtures/api/auth.vigil");

export async function startTestApi(
  o: { databaseUrl?: string; store?: IncidentStore; options?: Partial<Omit<ApiServerOptions, "store" | "ports">>; logger?: Logger } = {},
): Promise<TestApi> {
  const store = o.store ?? (await openStore({ databaseUrl: o.databaseUrl ?? "memory://" }));
  const delivered: EventFields[] = [];
  const packFiles = [{ path: "auth.vigil", text: readFileSync(AUTH_PACK, "utf8") }];
  const readiness = storeReadiness(store);
  const ports: ApiPorts = {
    ingest: createDecodingIngest({
      deliver: (events) => {
        for (const e of events) delivered.push(e.fields);
        return Promise.resolve();
      },
    }),
    rules: await createPackRuleAdmin({ readFiles: () => packFiles.map((f) => ({ ...f })), apply: () => undefined, audit: (a, action, target, d) => store.audit.append(a, action, target, d) }),
    readiness,
    actions: ledgerActionControl(store),
  };
  const registry = new Registry();
  const app = await createApiServer({
    store,
    ports,
    metricsRegistry: registry,
    auth: { jwt: { secret: JWT_SECRET } },
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
    ...o.options,
  });
  await app.ready();
  const system: Actor = { kind: "system", id: "test" };
  const keys = {} as Record<Role, string>;
  const keyIds = {} as Record<Role, string>;
  for (const role of ROLE_LIST) {
    const { record, secret } = await store.apiKeys.create(`test-${role}`, role, system);
    keys[role] = secret;
    keyIds[role] = record.id;
  }
  return {
    app,
    store,
    keys,
    keyIds,
    delivered,
    readiness,
    packFiles,
    registry,
    async close() {
      await app.close();
      if (o.store === undefined) await store.close();
    },
  };
}

/** A signed HS256 token; `expiresIn` negative for an expired one. */
export async function jwtFor(claims: { sub?: string; role?: unknown }, opts: { expSec?: number; nbfSec?: number; secret?: string; alg?: string } = {}): Promise<string> {
  const nowSec = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...(claims.role !== undefined ? { role: claims.role } : {}) }).setProtectedHeader({ alg: opts.alg ?? "HS256" }).setIssuedAt(nowSec - 10);
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  jwt.setExpirationTime(nowSec + (opts.expSec ?? 600));
  if (opts.nbfSec !== undefined) jwt.setNotBefore(nowSec + opts.nbfSec);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? JWT_SECRET));
}

let seq = 0;
/** An alert as the engine writes it. */
export function makeAlert(over: Partial<Alert> & { rule: string; key: string }): Alert {
  seq++;
  const at = over.detected_at ?? new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
  const { key, ...rest } = over;
  return {
    id: `alert${String(seq).padStart(8, "0")}${key.replace(/[^a-z0-9]/gi, "")}`.slice(0, 32),
    rule_version: "v1",
    title: `${over.rule} for ${key}`,
    severity: "high",
    risk: undefined,
    tags: [],
    keys: { "source.address": key },
    count: 5,
    value: undefined,
    first_event_at: at,
    last_event_at: at,
    fired_at: at,
    detected_at: at,
    evidence: { event_ids: [`ev-${seq}`], origins: ["test:1"], truncated: 0 },
    suppressed: 0,
    actions: [],
    ...rest,
  };
}
