/**
 * The embedded default as a long-lived service: `vigil run --follow` with the incident store
 * on the real PostgreSQL and the API served, fed both by a followed file and by the HTTP
 * ingest endpoint; alerts become incidents readable through the API, with metrics and health,
 * and the shipped brute-force rule's block is enforced in Redis (REDIS_URL).
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { expect, test } from "vitest";
import { runMain } from "../../cli/commands/run.js";
import { resolveConfig } from "../../cli/config.js";
import { Redis } from "ioredis";
import { redisUrl, uniqueName, withPgDatabase } from "../support/services.js";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a !== null ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

async function until<T>(f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 200));
  }
}

const failure = (i: number, ip: string) =>
  JSON.stringify({
    "@timestamp": new Date(Date.now() - 60_000 + i * 1000).toISOString(),
    "event.id": `emb-${ip}-${i}`,
    "event.category": "authentication",
    "event.outcome": "failure",
    "event.type": "start",
    "service.name": "sshd",
    "source.address": ip,
    "source.ip": ip,
    "user.name": "root",
  });

test("follow a file and take HTTP ingest; incidents in PostgreSQL readable through the API; blocks in Redis", { timeout: 180_000 }, async () => {
  const db = await withPgDatabase();
  const dir = mkdtempSync(join(tmpdir(), "vigil-embedded-"));
  const file = join(dir, "events.jsonl");
  writeFileSync(file, "");
  const port = await freePort();
  const key = "test-bootstrap-key-0123456789";
  const prefix = `${uniqueName("vr")}:`;
  const yaml = join(dir, "vigil.yaml");
  writeFileSync(yaml, `response:\n  redis:\n    prefix: "${prefix}"\n`);
  const redis = new Redis(redisUrl());
  const { config, errors } = resolveConfig({
    file: yaml,
    env: { REDIS_URL: redisUrl(), DATABASE_URL: db.url, VIGIL_API_PORT: String(port), VIGIL_BOOTSTRAP_API_KEY: key, VIGIL_DATA_DIR: dir, VIGIL_LOG_LEVEL: "info" },
    flags: new Map<string, string | boolean | readonly string[]>([
      ["input.files", [file]],
      ["input.follow", true],
      ["input.format", "json"],
      ["input.poll_interval", 50],
    ] as [string, string | boolean | readonly string[]][]),
  });
  expect(errors).toEqual([]);
  const lines: string[] = [];
  const ctl = new AbortController();
  const logs: string[] = [];
  const running = runMain(config, { out: (l) => lines.push(l), err: (l) => logs.push(l) }, { signal: ctl.signal });
  const api = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { "x-api-key": key, ...(init.headers ?? {}) } });
  try {
    await until(async () => ((await api("/healthz")).ok ? true : undefined));
    // A brute force through the followed file, another through HTTP ingest (NDJSON).
    for (let i = 0; i < 6; i++) appendFileSync(file, `${failure(i, "192.0.2.10")}\n`);
    // The HTTP events carry epoch milliseconds: event time as in files, not a year or the clock.
    const httpEvents = Array.from({ length: 6 }, (_, i) => JSON.parse(failure(i, "192.0.2.20")) as Record<string, unknown>);
    for (const e of httpEvents) e["@timestamp"] = Date.parse(String(e["@timestamp"]));
    const body = httpEvents.map((e) => JSON.stringify(e)).join("\n");
    const r = await api("/v1/events", { method: "POST", body, headers: { "content-type": "application/x-ndjson" } });
    expect(r.status).toBeLessThan(300);
    expect(((await r.json()) as { accepted: number }).accepted).toBe(6);

    const alerts = await until(async () => {
      const res = await api("/v1/alerts?rule=ssh_bruteforce");
      const page = (await res.json()) as { items: { keys: Record<string, unknown>; incident_id: string; first_event_at: string }[] };
      return page.items.length >= 2 ? page.items : undefined;
    });
    expect(alerts.map((a) => a.keys["source.address"]).sort()).toEqual(["192.0.2.10", "192.0.2.20"]);
    const viaHttp = alerts.find((a) => a.keys["source.address"] === "192.0.2.20");
    expect(viaHttp?.first_event_at).toBe(new Date(httpEvents[0]?.["@timestamp"] as number).toISOString());
    const incident = await api(`/v1/incidents/${alerts[0]!.incident_id}`);
    expect(incident.status).toBe(200);
    expect(((await incident.json()) as { state: string }).state).toBe("new");
    // The same alerts on stdout, as replay prints them.
    expect(lines.filter((l) => l.includes('"rule":"ssh_bruteforce"')).length).toBe(2);

    // An event from before the watermark (10 minutes behind): evaluated, and counted as late.
    const stale = { "@timestamp": new Date(Date.now() - 600_000).toISOString(), "event.id": "emb-stale", "event.category": "process", "service.name": "cron" };
    expect((await api("/v1/events", { method: "POST", body: JSON.stringify(stale), headers: { "content-type": "application/json" } })).status).toBe(202);
    // Refused events are listed in the answer and counted by reason.
    const refused = await api("/v1/events", { method: "POST", body: '{"no":"time"}\n{broken\n', headers: { "content-type": "application/x-ndjson" } });
    expect(refused.status).toBe(400);
    const metrics = await until(async () => {
      const text = await (await api("/metrics")).text();
      return /vigil_late_events 1\b/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/vigil_events_total \d+/);
    expect(metrics).toMatch(/vigil_ingest_rejected_total\{reason="missing_timestamp"\} 1/);
    expect(metrics).toMatch(/vigil_ingest_rejected_total\{reason="invalid_json"\} 1/);
    expect(metrics).toMatch(/vigil_alerts_total\{rule="ssh_bruteforce",severity="high"\} 2/);
    const ready = (await (await api("/readyz")).json()) as { ready: boolean };
    expect(ready.ready).toBe(true);

    // With REDIS_URL the shipped rule's block is enforced in Redis, for an hour from now.
    const blocked = await until(async () => {
      const z = await redis.zrange(`${prefix}blocked-ips`, 0, -1, "WITHSCORES");
      return z.length >= 4 ? z : undefined;
    });
    expect([blocked[0], blocked[2]].sort()).toEqual(["192.0.2.10", "192.0.2.20"]);
    for (const score of [blocked[1], blocked[3]]) expect(Math.abs(Number(score) - (Date.now() + 3_600_000))).toBeLessThan(120_000);
    // The actions are recorded on the incidents: the block done, notify skipped (no channel configured).
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const acts = await until(async () => {
        const q = await client.query<{ action: string; status: string }>("SELECT action, status FROM response_actions WHERE action = 'block_ip'");
        return q.rows.length >= 2 && q.rows.every((x) => x.status !== "pending") ? q.rows : undefined;
      });
      expect(acts.map((a) => a.status)).toEqual(["done", "done"]);
    } finally {
      await client.end();
    }
  } finally {
    ctl.abort();
    expect(await running).toBe(0);
    // The closing summary counts what came through HTTP as well as what was read from the file.
    const summary = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "inputs ended");
    expect(summary).toMatchObject({ lines: 6, events: 6, http_requests: 2, http_events: 7, events_evaluated: 13, late: 1, refused: 0, alerts: 3 });
    // (ssh_bruteforce for each source, and account_lockout for root's failures across both)
    await db.drop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
});
