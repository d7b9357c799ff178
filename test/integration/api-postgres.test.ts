/**
 * The API listening on a real socket over the real PostgreSQL store: what a client sees
 * over HTTP (keys, pagination, transitions, audit chain, CORS).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAlert, startTestApi, type TestApi } from "../support/api.js";
import { type PgDatabase, withPgDatabase } from "../support/services.js";

describe("API over HTTP on PostgreSQL", () => {
  let db: PgDatabase;
  let api: TestApi;
  let base: string;

  beforeAll(async () => {
    db = await withPgDatabase();
    api = await startTestApi({ databaseUrl: db.url, options: { corsOrigins: ["https://console.example.com"] } });
    await api.store.write(
      Array.from({ length: 7 }, (_, i) => makeAlert({ rule: "pg_rule", key: `192.0.2.${i}`, detected_at: new Date(Date.UTC(2026, 1, 1, 0, i)).toISOString() })),
      [],
    );
    base = await api.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it("pages, transitions and exports a verified audit chain through fetch", async () => {
    const admin = { "x-api-key": api.keys.admin };
    const created = await fetch(`${base}/v1/keys`, { method: "POST", headers: { ...admin, "content-type": "application/json" }, body: JSON.stringify({ name: "analyst-bot", role: "analyst" }) });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const { secret } = (await created.json()) as { secret: string };
    const analyst = { "x-api-key": secret };

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `${base}/v1/incidents?rule=pg_rule&limit=3${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await fetch(url, { headers: analyst });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { id: string; detected_at: string }[]; next_cursor: string | null };
      ids.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(ids).toHaveLength(7);
    expect(new Set(ids).size).toBe(7);

    const t = await fetch(`${base}/v1/incidents/${ids[0] ?? ""}/transition`, { method: "POST", headers: { ...analyst, "content-type": "application/json" }, body: JSON.stringify({ to: "false_positive", reason: "scanner we run" }) });
    expect(t.status).toBe(200);
    const forbidden = await fetch(`${base}/v1/keys`, { headers: analyst });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: "E_FORBIDDEN" } });

    const csv = await fetch(`${base}/v1/audit?format=csv`, { headers: analyst });
    const text = await csv.text();
    expect(text).toContain(",incident.transition,");
    expect(text).toContain(",apikey.create,");
    const verify = await fetch(`${base}/v1/audit/verify`, { headers: analyst });
    expect(await verify.json()).toMatchObject({ ok: true });

    const preflight = await fetch(`${base}/v1/incidents`, { method: "OPTIONS", headers: { origin: "https://console.example.com", "access-control-request-method": "GET", "access-control-request-headers": "x-api-key" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://console.example.com");
  });
});
