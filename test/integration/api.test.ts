/**
 * The HTTP API over the real incident store (PGlite in memory): every route's behaviour,
 * validation, authentication, rate limits, CORS, metrics, log redaction and the OpenAPI
 * document. The authorisation matrix is in api-authz-matrix.test.ts.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiPath } from "../../api/openapi.js";
import { AUDIT_CSV_COLUMNS } from "../../api/routes/audit.js";
import { openStore } from "../../connectors/store/index.js";
import type { IncidentStore } from "../../connectors/store/types.js";
import { jwtFor, makeAlert, startTestApi, type TestApi } from "../support/api.js";

type Json = Record<string, unknown>;

describe("API over the real store", () => {
  let api: TestApi;
  let incidentIds: string[] = [];
  const h = (role: "viewer" | "analyst" | "responder" | "admin") => ({ "x-api-key": api.keys[role] });

  beforeAll(async () => {
    api = await startTestApi();
    // 5 incidents: two rules, three keys each one alert, two severities.
    await api.store.write(
      [
        makeAlert({ rule: "ssh_bruteforce", key: "203.0.113.1", severity: "high", detected_at: "2026-01-01T00:00:01.000Z" }),
        makeAlert({ rule: "ssh_bruteforce", key: "203.0.113.2", severity: "high", detected_at: "2026-01-01T00:00:02.000Z" }),
        makeAlert({ rule: "ssh_bruteforce", key: "203.0.113.3", severity: "critical", detected_at: "2026-01-01T00:00:03.000Z" }),
        makeAlert({ rule: "port_scan", key: "198.51.100.1", severity: "low", detected_at: "2026-01-01T00:00:04.000Z" }),
        makeAlert({ rule: "port_scan", key: "198.51.100.2", severity: "low", detected_at: "2026-01-01T00:00:05.000Z" }),
      ],
      [],
    );
    const page = await api.store.listIncidents({}, 100, null);
    incidentIds = page.items.map((i) => i.id);
  });
  afterAll(() => api.close());

  describe("incidents", () => {
    it("pages through every incident with the cursor, newest first, without repeats", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const url: string = `/v1/incidents?limit=2${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
        const res = await api.app.inject({ method: "GET", url, headers: h("viewer") });
        expect(res.statusCode).toBe(200);
        const body = res.json<{ items: { id: string; detected_at: string }[]; next_cursor: string | null }>();
        expect(body.items.length).toBeLessThanOrEqual(2);
        seen.push(...body.items.map((i) => i.id));
        cursor = body.next_cursor;
        if (cursor === null) break;
      }
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
      expect(seen).toEqual(incidentIds);
    });

    it("filters by state list, severity list, rule and time range", async () => {
      const get = async (qs: string) => {
        const res = await api.app.inject({ method: "GET", url: `/v1/incidents?${qs}`, headers: h("viewer") });
        expect(res.statusCode, res.body).toBe(200);
        return res.json<{ items: { rule: string; severity: string }[] }>().items;
      };
      expect(await get("rule=port_scan")).toHaveLength(2);
      expect((await get("severity=critical,low")).map((i) => i.severity).sort()).toEqual(["critical", "low", "low"]);
      expect(await get("severity=critical&severity=high")).toHaveLength(3);
      expect(await get("state=new,acknowledged")).toHaveLength(5);
      expect(await get("state=resolved")).toHaveLength(0);
      expect(await get("from=2026-01-01T00:00:02.000Z&to=2026-01-01T00:00:04.000Z")).toHaveLength(2);
    });

    it("answers 400 naming the field for a bad filter, and for a cursor the store never gave", async () => {
      const bad = await api.app.inject({ method: "GET", url: "/v1/incidents?state=open", headers: h("viewer") });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/state/0" } });
      const unknown = await api.app.inject({ method: "GET", url: "/v1/incidents?colour=red", headers: h("viewer") });
      expect(unknown.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/colour" } });
      const limit = await api.app.inject({ method: "GET", url: "/v1/incidents?limit=0", headers: h("viewer") });
      expect(limit.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/limit" } });
      const cursor = await api.app.inject({ method: "GET", url: "/v1/incidents?cursor=bm9wZQ", headers: h("viewer") });
      expect(cursor.statusCode).toBe(400);
      expect(cursor.json()).toMatchObject({ error: { code: "E_INVALID" } });
    });

    it("gets an incident with its alerts and evidence; 404 for an unknown one", async () => {
      const id = incidentIds[0] ?? "";
      const res = await api.app.inject({ method: "GET", url: `/v1/incidents/${id}`, headers: h("viewer") });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ id: string; alerts: { evidence: { event_ids: string[] } }[]; transitions: unknown[] }>();
      expect(body.id).toBe(id);
      expect(body.alerts).toHaveLength(1);
      expect(body.alerts[0]?.evidence.event_ids.length).toBe(1);
      const missing = await api.app.inject({ method: "GET", url: "/v1/incidents/nope", headers: h("viewer") });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ error: { code: "E_NOT_FOUND" } });
    });

    it("transitions, assigns, comments and re-grades, recording the caller as the actor", async () => {
      const id = incidentIds[1] ?? "";
      const t = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/transition`, headers: h("analyst"), payload: { to: "acknowledged", reason: "looking" } });
      expect(t.statusCode, t.body).toBe(200);
      expect(t.json()).toMatchObject({ state: "acknowledged" });
      const a = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/assign`, headers: h("analyst"), payload: { assignee: "alice" } });
      expect(a.json()).toMatchObject({ assignee: "alice" });
      const c = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/comments`, headers: h("responder"), payload: { text: "blocked upstream" } });
      expect(c.statusCode).toBe(201);
      expect(c.json()).toMatchObject({ text: "blocked upstream", actor: { kind: "api_key", id: api.keyIds.responder } });
      const s = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/severity`, headers: h("analyst"), payload: { severity: "critical" } });
      expect(s.json()).toMatchObject({ severity: "critical" });
      const detail = (await api.app.inject({ method: "GET", url: `/v1/incidents/${id}`, headers: h("viewer") })).json<Json>();
      expect(detail["transitions"]).toEqual([expect.objectContaining({ from: "new", to: "acknowledged", reason: "looking", actor: { kind: "api_key", id: api.keyIds.analyst } })]);
      expect(detail["comments"]).toHaveLength(1);
    });

    it("refuses a transition the lifecycle forbids with 409 and a bad body with 400 naming the field", async () => {
      const id = incidentIds[2] ?? "";
      const r1 = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/transition`, headers: h("analyst"), payload: { to: "resolved" } });
      expect(r1.statusCode).toBe(200);
      const r2 = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/transition`, headers: h("analyst"), payload: { to: "new" } });
      expect(r2.statusCode).toBe(409);
      expect(r2.json()).toMatchObject({ error: { code: "E_BAD_TRANSITION" } });
      const bad = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/transition`, headers: h("analyst"), payload: { to: "closed" } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/to" } });
      expect(bad.json<{ error: { message: string } }>().error.message).toContain("false_positive");
      const missing = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/transition`, headers: h("analyst"), payload: {} });
      expect(missing.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/to" } });
      const extra = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/comments`, headers: h("analyst"), payload: { text: "x", html: "<b>" } });
      expect(extra.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/html" } });
      const notJson = await api.app.inject({ method: "POST", url: `/v1/incidents/${id}/comments`, headers: { ...h("analyst"), "content-type": "application/json" }, payload: "{nope" });
      expect(notJson.statusCode).toBe(400);
      expect(notJson.json()).toMatchObject({ error: { code: "E_VALIDATION" } });
      const gone = await api.app.inject({ method: "POST", url: "/v1/incidents/nope/assign", headers: h("analyst"), payload: { assignee: null } });
      expect(gone.statusCode).toBe(404);
    });
  });

  it("lists alerts filtered by rule", async () => {
    const res = await api.app.inject({ method: "GET", url: "/v1/alerts?rule=port_scan&limit=10", headers: h("viewer") });
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: { rule: string }[] }>().items;
    expect(items.map((a) => a.rule)).toEqual(["port_scan", "port_scan"]);
  });

  it("computes KPIs over a range, and refuses from ≥ to", async () => {
    const res = await api.app.inject({ method: "GET", url: "/v1/kpis?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", headers: h("viewer") });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ incidents: 5, alerts: 5 });
    const bad = await api.app.inject({ method: "GET", url: "/v1/kpis?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", headers: h("viewer") });
    expect(bad.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/from" } });
    const fmt = await api.app.inject({ method: "GET", url: "/v1/kpis?from=yesterday", headers: h("viewer") });
    expect(fmt.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/from", message: expect.stringMatching(/must match format "date-time" \(RFC 3339, e\.g\. 2026-12-04T00:00:00Z\)$/) as unknown } });
  });

  describe("rules", () => {
    it("lists, checks a pack with diagnostics, disables, enables and reloads", async () => {
      const list = await api.app.inject({ method: "GET", url: "/v1/rules", headers: h("viewer") });
      expect(list.json<{ items: { name: string; enabled: boolean }[] }>().items).toEqual([expect.objectContaining({ name: "ssh_bruteforce", enabled: true })]);

      const good = await api.app.inject({ method: "POST", url: "/v1/rules/check", headers: h("analyst"), payload: { files: api.packFiles } });
      expect(good.json()).toMatchObject({ ok: true, rules: 1 });
      const broken = await api.app.inject({ method: "POST", url: "/v1/rules/check", headers: h("analyst"), payload: { files: [{ path: "x.vigil", text: "rule r {\n  when event.category ==\n}\n" }] } });
      expect(broken.statusCode).toBe(200);
      const b = broken.json<{ ok: boolean; diagnostics: { code: string; file: string; line: number }[] }>();
      expect(b.ok).toBe(false);
      expect(b.diagnostics[0]?.file).toBe("x.vigil");
      expect(b.diagnostics[0]?.code).toMatch(/^E_/);
      // List files come from the upload, never from the server's disk.
      const probe = await api.app.inject({ method: "POST", url: "/v1/rules/check", headers: h("analyst"), payload: { files: [{ path: "p.vigil", text: 'list l = file("/etc/hostname")\n' }] } });
      expect(probe.json<{ diagnostics: { code: string; message: string }[] }>().diagnostics).toEqual([expect.objectContaining({ code: "E_LIST_FILE", message: expect.stringContaining("not among the uploaded files") as unknown })]);
      const withList = await api.app.inject({
        method: "POST",
        url: "/v1/rules/check",
        headers: h("analyst"),
        payload: { files: [{ path: "p.vigil", text: 'list l = file("lists/l.txt")\n' }, { path: "lists/l.txt", text: "a\nb\n" }] },
      });
      expect(withList.json()).toMatchObject({ ok: true, diagnostics: [] });
      const dup = await api.app.inject({ method: "POST", url: "/v1/rules/check", headers: h("analyst"), payload: { files: [{ path: "a", text: "" }, { path: "a", text: "" }] } });
      expect(dup.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/files/1/path" } });

      const off = await api.app.inject({ method: "POST", url: "/v1/rules/ssh_bruteforce/disable", headers: h("admin") });
      expect(off.json()).toMatchObject({ name: "ssh_bruteforce", enabled: false });
      expect((await api.app.inject({ method: "GET", url: "/v1/rules", headers: h("viewer") })).json()).toMatchObject({ items: [{ enabled: false }] });
      const on = await api.app.inject({ method: "POST", url: "/v1/rules/ssh_bruteforce/enable", headers: h("admin") });
      expect(on.json()).toMatchObject({ enabled: true });
      const unknown = await api.app.inject({ method: "POST", url: "/v1/rules/nope/enable", headers: h("admin") });
      expect(unknown.statusCode).toBe(404);

      const original = api.packFiles[0]?.text ?? "";
      api.packFiles[0] = { path: "auth.vigil", text: "rule broken {" };
      const refused = await api.app.inject({ method: "POST", url: "/v1/rules/reload", headers: h("admin") });
      expect(refused.json()).toMatchObject({ applied: false, ok: false });
      api.packFiles[0] = { path: "auth.vigil", text: original };
      const applied = await api.app.inject({ method: "POST", url: "/v1/rules/reload", headers: h("admin") });
      expect(applied.json()).toMatchObject({ applied: true, ok: true, rules: 1 });
    });
  });

  describe("event ingest", () => {
    it("accepts NDJSON and reports each bad line with its number and reason", async () => {
      const before = api.delivered.length;
      const body = ['{"@timestamp":"2026-01-01T00:00:00Z","event":{"category":"authentication"}}', "{broken", '{"no":"time"}', '{"@timestamp":1767225600000}'].join("\n") + "\n";
      const res = await api.app.inject({ method: "POST", url: "/v1/events", headers: { ...h("analyst"), "content-type": "application/x-ndjson" }, payload: body });
      expect(res.statusCode).toBe(202);
      const r = res.json<{ accepted: number; rejected: { line: number; reason: string }[] }>();
      expect(r.accepted).toBe(2);
      expect(r.rejected.map((x) => x.line)).toEqual([2, 3]);
      expect(r.rejected[0]?.reason).toMatch(/^invalid_json/);
      expect(r.rejected[1]?.reason).toMatch(/^missing_timestamp/);
      expect(api.delivered.length - before).toBe(2);
    });

    it("accepts a JSON array and syslog lines; 400 with the reasons when nothing is accepted", async () => {
      const arr = await api.app.inject({ method: "POST", url: "/v1/events", headers: h("analyst"), payload: [{ "@timestamp": "2026-01-01T00:00:00Z" }, { "@timestamp": "2026-01-01T00:00:01Z" }] });
      expect(arr.statusCode).toBe(202);
      expect(arr.json()).toEqual({ accepted: 2, rejected: [] });
      const log = "Jan  1 00:00:00 host sshd[42]: Failed password for root from 203.0.113.9 port 22 ssh2\n";
      const text = await api.app.inject({ method: "POST", url: "/v1/events", headers: { ...h("analyst"), "content-type": "text/plain; charset=utf-8" }, payload: log });
      expect(text.json()).toMatchObject({ accepted: 1 });
      expect(api.delivered[api.delivered.length - 1]).toMatchObject({ "service.name": "sshd" });
      const none = await api.app.inject({ method: "POST", url: "/v1/events", headers: { ...h("analyst"), "content-type": "application/x-ndjson" }, payload: "nope\n" });
      expect(none.statusCode).toBe(400);
      expect(none.json()).toMatchObject({ error: { code: "E_VALIDATION" }, accepted: 0, rejected: [{ line: 1 }] });
    });

    it("refuses an unsupported media type (415) and a body over the limit (413)", async () => {
      const xml = await api.app.inject({ method: "POST", url: "/v1/events", headers: { ...h("analyst"), "content-type": "application/xml" }, payload: "<e/>" });
      expect(xml.statusCode).toBe(415);
      expect(xml.json()).toMatchObject({ error: { code: "E_UNSUPPORTED_MEDIA_TYPE", message: expect.stringContaining("send application/json (POST /v1/events also takes application/x-ndjson and text/plain)") as unknown } });
      const small = await startTestApi({ store: api.store, options: { ingestBodyLimitBytes: 100 } });
      try {
        const big = await small.app.inject({ method: "POST", url: "/v1/events", headers: { "x-api-key": small.keys.analyst, "content-type": "application/x-ndjson" }, payload: "x".repeat(101) });
        expect(big.statusCode).toBe(413);
        expect(big.json()).toMatchObject({ error: { code: "E_PAYLOAD_TOO_LARGE" } });
      } finally {
        await small.close();
      }
    });
  });

  describe("response actions", () => {
    it("lists actions, approves a queued one once, undoes a done one once", async () => {
      const base = { incident_id: incidentIds[0] ?? null, alert_id: "a1", args: { ip: "203.0.113.1" }, created_at: "2026-01-01T00:00:00.000Z", reverse_at: null };
      await api.store.actions.claim({ ...base, id: "act_queued", action: "block_ip", mode: "approve", status: "awaiting_approval" });
      await api.store.actions.claim({ ...base, id: "act_done", action: "lock_account", mode: "enforce", status: "pending" });
      await api.store.actions.complete("act_done", { status: "done", reason: null, attempts: 1, reverse_at: "2026-01-02T00:00:00.000Z" });

      const queued = await api.app.inject({ method: "GET", url: "/v1/actions?status=awaiting_approval", headers: h("viewer") });
      expect(queued.json<{ items: { id: string }[] }>().items.map((a) => a.id)).toEqual(["act_queued"]);
      const one = await api.app.inject({ method: "GET", url: "/v1/actions/act_done", headers: h("viewer") });
      expect(one.json()).toMatchObject({ id: "act_done", status: "done" });

      const ok = await api.app.inject({ method: "POST", url: "/v1/actions/act_queued/approve", headers: h("responder") });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toMatchObject({ id: "act_queued", status: "pending" });
      const again = await api.app.inject({ method: "POST", url: "/v1/actions/act_queued/approve", headers: h("responder") });
      expect(again.statusCode).toBe(409);

      const undo = await api.app.inject({ method: "POST", url: "/v1/actions/act_done/undo", headers: h("responder") });
      expect(undo.json()).toMatchObject({ status: "reversed" });
      expect((await api.app.inject({ method: "POST", url: "/v1/actions/act_done/undo", headers: h("responder") })).statusCode).toBe(409);
      expect((await api.app.inject({ method: "POST", url: "/v1/actions/nope/undo", headers: h("responder") })).statusCode).toBe(404);
    });
  });

  describe("audit", () => {
    it("exports the chain as JSON pages and CSV, and verifies it", async () => {
      const page1 = await api.app.inject({ method: "GET", url: "/v1/audit?limit=3", headers: h("analyst") });
      const p1 = page1.json<{ items: { seq: number; hash: string; prev_hash: string }[]; next_after: number | null }>();
      expect(p1.items.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(p1.items[1]?.prev_hash).toBe(p1.items[0]?.hash);
      expect(p1.next_after).toBe(3);
      const all = (await api.app.inject({ method: "GET", url: "/v1/audit?limit=10000", headers: h("analyst") })).json<{ items: { seq: number; action: string; hash: string }[]; next_after: number | null }>();
      expect(all.next_after).toBeNull();
      expect(all.items.map((e) => e.action)).toEqual(expect.arrayContaining(["apikey.create", "incident.transition", "rule.disable", "action.undo"]));

      const csv = await api.app.inject({ method: "GET", url: "/v1/audit?format=csv&limit=10000", headers: h("analyst") });
      expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
      const lines = csv.body.split("\r\n").filter((l) => l !== "");
      expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(","));
      expect(lines).toHaveLength(all.items.length + 1);
      for (const [i, e] of all.items.entries()) expect(lines[i + 1]?.endsWith(`,${e.hash}`)).toBe(true);

      const v = await api.app.inject({ method: "GET", url: "/v1/audit/verify", headers: h("analyst") });
      expect(v.json()).toMatchObject({ ok: true, entries: all.items.length });
    });
  });

  describe("API keys", () => {
    it("creates a key shown once, lists it without secrets, and a revoked key stops working", async () => {
      const created = await api.app.inject({ method: "POST", url: "/v1/keys", headers: h("admin"), payload: { name: "ci", role: "viewer" } });
      expect(created.statusCode).toBe(201);
      const { key, secret } = created.json<{ key: { id: string; role: string }; secret: string }>();
      expect(key.role).toBe("viewer");
      expect((await api.app.inject({ method: "GET", url: "/v1/rules", headers: { "x-api-key": secret } })).statusCode).toBe(200);
      const list = await api.app.inject({ method: "GET", url: "/v1/keys", headers: h("admin") });
      expect(list.body).not.toContain(secret);
      expect(list.json<{ items: { id: string }[] }>().items.map((k) => k.id)).toContain(key.id);
      const revoked = await api.app.inject({ method: "DELETE", url: `/v1/keys/${key.id}`, headers: h("admin") });
      expect(revoked.json<{ revoked_at: string | null }>().revoked_at).not.toBeNull();
      const after = await api.app.inject({ method: "GET", url: "/v1/rules", headers: { "x-api-key": secret } });
      expect(after.statusCode).toBe(401);
      const self = await api.app.inject({ method: "DELETE", url: `/v1/keys/${api.keyIds.admin}`, headers: h("admin") });
      expect(self.statusCode).toBe(409);
      const bad = await api.app.inject({ method: "POST", url: "/v1/keys", headers: h("admin"), payload: { name: "x", role: "root" } });
      expect(bad.json()).toMatchObject({ error: { code: "E_VALIDATION", field: "/role" } });
    });

    it("bootstraps an admin key from the configured secret, idempotently", async () => {
      const secret = "bootstrap-secret-0123456789-abcdef";
      const first = await startTestApi({ store: api.store, options: { bootstrapApiKey: secret } });
      await first.close();
      const second = await startTestApi({ store: api.store, options: { bootstrapApiKey: secret } });
      try {
        const res = await second.app.inject({ method: "GET", url: "/v1/keys", headers: { "x-api-key": secret } });
        expect(res.statusCode).toBe(200);
        expect(res.json<{ items: { name: string }[] }>().items.filter((k) => k.name === "bootstrap")).toHaveLength(1);
      } finally {
        await second.close();
      }
      await expect(startTestApi({ store: api.store, options: { bootstrapApiKey: "short" } })).rejects.toThrow(/at least 24/);
    });
  });

  describe("JWT bearer tokens", () => {
    it("accepts a valid token, takes the role from the claim and the subject as the actor", async () => {
      const token = await jwtFor({ sub: "carol", role: "analyst" });
      const res = await api.app.inject({ method: "POST", url: `/v1/incidents/${incidentIds[3] ?? ""}/comments`, headers: { authorization: `Bearer ${token}` }, payload: { text: "hi" } });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ actor: { kind: "user", id: "carol" } });
      const viewer = await jwtFor({ sub: "dave", role: "viewer" });
      expect((await api.app.inject({ method: "POST", url: "/v1/rules/reload", headers: { authorization: `Bearer ${viewer}` } })).statusCode).toBe(403);
    });

    it.each([
      ["expired", () => jwtFor({ sub: "u", role: "admin" }, { expSec: -120 }), /expired/],
      ["not yet valid", () => jwtFor({ sub: "u", role: "admin" }, { nbfSec: 600 }), /invalid token/],
      ["signed with another secret", () => jwtFor({ sub: "u", role: "admin" }, { secret: "another-secret-another-secret-0123456789" }), /invalid token/],
      ["HS512 instead of HS256", () => jwtFor({ sub: "u", role: "admin" }, { alg: "HS512" }), /invalid token/],
      ["without a role", () => jwtFor({ sub: "u" }), /role/],
      ["with an unknown role", () => jwtFor({ sub: "u", role: "root" }), /role/],
      ["without a subject", () => jwtFor({ role: "admin" }), /invalid token/],
    ])("refuses a token %s with 401", async (_name, make, message) => {
      const res = await api.app.inject({ method: "GET", url: "/v1/rules", headers: { authorization: `Bearer ${await make()}` } });
      expect(res.statusCode).toBe(401);
      const body = res.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe("E_UNAUTHENTICATED");
      expect(body.error.message).toMatch(message);
      expect(res.headers["www-authenticate"]).toMatch(/Bearer/);
    });

    it("refuses malformed credentials and two credentials at once", async () => {
      for (const headers of [{ authorization: "Basic dXNlcjpwYXNz" }, { authorization: "Bearer" }, { "x-api-key": "" }, { "x-api-key": "x".repeat(300) }, { "x-api-key": api.keys.admin, authorization: "Bearer abc" }]) {
        const res = await api.app.inject({ method: "GET", url: "/v1/rules", headers });
        expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      }
    });
  });

  it("serves liveness, readiness (503 when a dependency is down) and Prometheus metrics", async () => {
    expect((await api.app.inject({ method: "GET", url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await api.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    api.readiness.down = true;
    const down = await api.app.inject({ method: "GET", url: "/readyz" });
    api.readiness.down = false;
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ ready: false, checks: { nats: { ok: false } } });
    const metrics = await api.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.headers["content-type"]).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(/vigil_http_requests_total\{method="GET",route="\/v1\/incidents",status="200"\} \d+/);
    expect(metrics.body).toContain("vigil_http_request_duration_seconds_bucket");
  });

  it("answers an unknown route with the envelope", async () => {
    const res = await api.app.inject({ method: "GET", url: "/v1/nothing" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: "E_NOT_FOUND" } });
  });

  it("describes every registered route in the OpenAPI document, with its permission", async () => {
    const doc = (await api.app.inject({ method: "GET", url: "/v1/openapi.json" })).json<{ openapi: string; paths: Record<string, Record<string, Json>> }>();
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const v1 = api.app.vigilRoutes.filter((r) => r.url.startsWith("/v1/") && r.url !== "/v1/openapi.json").map((r) => `${r.method} ${openApiPath(r.url)}`);
    expect(documented.sort()).toEqual(v1.sort());
    expect(doc.paths["/v1/incidents/{id}/transition"]?.["post"]).toMatchObject({ "x-permission": "incidents:write", "x-least-role": "analyst" });
    const list = doc.paths["/v1/incidents"]?.["get"] as { parameters: { name: string }[] };
    expect(list.parameters.map((p) => p.name)).toEqual(["state", "severity", "rule", "assignee", "service", "from", "to", "limit", "cursor"]);
  });
});

describe("API limits, CORS and logging", () => {
  // One store for the servers of this group (opening PGlite is the slow part).
  let store: IncidentStore;
  beforeAll(async () => {
    store = await openStore({ databaseUrl: "memory://" });
  });
  afterAll(() => store.close());
  it("limits requests per key (100/min default, here 3) and per IP, with Retry-After, on an injected clock", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const api = await startTestApi({ store, options: { rateLimits: { perPrincipal: 3, perIp: 5, windowMs: 60_000 }, now: () => new Date(now) } });
    try {
      const get = (headers: Record<string, string>, ip = "10.0.0.1") => api.app.inject({ method: "GET", url: "/v1/rules", headers, remoteAddress: ip });
      for (let i = 0; i < 3; i++) expect((await get({ "x-api-key": api.keys.viewer })).statusCode).toBe(200);
      now += 10_000;
      const limited = await get({ "x-api-key": api.keys.viewer });
      expect(limited.statusCode).toBe(429);
      expect(limited.headers["retry-after"]).toBe("50");
      expect(limited.json()).toMatchObject({ error: { code: "E_RATE_LIMITED" } });
      // Another key from the same address still passes until the address's 5 are used.
      expect((await get({ "x-api-key": api.keys.analyst })).statusCode).toBe(200);
      const byIp = await get({ "x-api-key": api.keys.analyst });
      expect(byIp.statusCode).toBe(429);
      expect(byIp.json<{ error: { message: string } }>().error.message).toMatch(/address/);
      // Unauthenticated guesses count against the address too.
      expect((await get({ "x-api-key": "guess" }, "10.0.0.2")).statusCode).toBe(401);
      // A new window admits again.
      now += 60_000;
      expect((await get({ "x-api-key": api.keys.viewer })).statusCode).toBe(200);
    } finally {
      await api.close();
    }
  });

  it("allows only the configured CORS origins", async () => {
    const api = await startTestApi({ store, options: { corsOrigins: ["https://console.example.com"] } });
    try {
      const ok = await api.app.inject({ method: "GET", url: "/healthz", headers: { origin: "https://console.example.com" } });
      expect(ok.headers["access-control-allow-origin"]).toBe("https://console.example.com");
      const other = await api.app.inject({ method: "GET", url: "/healthz", headers: { origin: "https://evil.example" } });
      expect(other.headers["access-control-allow-origin"]).toBeUndefined();
      const preflight = await api.app.inject({ method: "OPTIONS", url: "/v1/incidents", headers: { origin: "https://console.example.com", "access-control-request-method": "GET" } });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers["access-control-allow-origin"]).toBe("https://console.example.com");
    } finally {
      await api.close();
    }
    const closed = await startTestApi({ store });
    try {
      const res = await closed.app.inject({ method: "GET", url: "/healthz", headers: { origin: "https://console.example.com" } });
      expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    } finally {
      await closed.close();
    }
  });

  it("never writes an API key, a bearer token or a created secret to the log", async () => {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const api = await startTestApi({ store, logger: pino({ level: "trace" }, sink) });
    try {
      const token = await jwtFor({ sub: "erin", role: "admin" });
      await api.app.inject({ method: "GET", url: "/v1/rules", headers: { "x-api-key": api.keys.viewer } });
      await api.app.inject({ method: "GET", url: "/v1/rules", headers: { "x-api-key": "wrong-key-guess-123" } });
      const created = await api.app.inject({ method: "POST", url: "/v1/keys", headers: { authorization: `Bearer ${token}` }, payload: { name: "n", role: "viewer" } });
      const secret = created.json<{ secret: string }>().secret;
      await api.app.inject({ method: "GET", url: "/v1/incidents?cursor=bad", headers: { authorization: `Bearer ${token}` } });
      const log = chunks.join("");
      expect(log).toContain('"url":"/v1/rules"'); // requests are logged …
      expect(log).not.toContain(api.keys.viewer); // … without their credentials
      expect(log).not.toContain("wrong-key-guess-123");
      expect(log).not.toContain(token);
      expect(log).not.toContain(secret);
    } finally {
      await api.close();
    }
  });
});
