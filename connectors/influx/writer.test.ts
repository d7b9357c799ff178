import { createServer, connect, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createInfluxDatabase, dropInfluxDatabase, influxQuery, influxUrl, influxWrite, uniqueName } from "../../test/support/services.js";
import type { Kpis } from "../store/types.js";
import { createInfluxWriter, influxOptionsFromEnv, type InfluxLogger, type InfluxWriter } from "./writer.js";

interface LogLine {
  level: string;
  msg: string;
  obj: object;
}

function captureLogger(): { logger: InfluxLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, msg, obj });
  return { logger: { info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

/** A TCP proxy to the test InfluxDB that the test can take down and bring back on the same port. */
class Proxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    const target = new URL(influxUrl());
    const server = createServer((client) => {
      const upstream = connect(Number(target.port || 8086), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    const addr = server.address();
    if (addr !== null && typeof addr === "object") this.port = addr.port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

async function rows(db: string, q: string): Promise<Record<string, unknown>[]> {
  const [r] = await influxQuery(q, { db, epoch: "ms" });
  const out: Record<string, unknown>[] = [];
  for (const s of r?.series ?? []) {
    for (const v of s.values ?? []) out.push({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) });
  }
  return out;
}

async function until(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function track(w: InfluxWriter, db: string, proxy?: Proxy): InfluxWriter {
  cleanups.push(async () => {
    await w.close();
    await proxy?.down();
    await dropInfluxDatabase(db);
  });
  return w;
}

describe("InfluxDB writer (real server)", () => {
  it("creates the database and retention policy and writes counts, alerts, anomaly scores and KPIs", async () => {
    const db = uniqueName("influx_w");
    const { logger } = captureLogger();
    const w = track(createInfluxWriter({ url: influxUrl(), database: db, intervalMs: 60_000, retentionPolicy: { name: "vigil_7d", duration: "7d" }, logger }), db);
    for (let i = 0; i < 5; i++) w.countEvent("sshd", "authentication");
    w.countEvent("sshd", "network");
    w.countEvent("sshd", "network");
    w.countEvent("nginx", "web");
    w.countAlert("ssh_bruteforce", "high");
    w.countAlert("ssh_bruteforce", "high");
    w.countAlert("port_scan", "medium");
    const ts = Date.now() - 5_000;
    w.anomalyScore("logins", "alice", 0.93, ts);
    const k: Kpis = { from: "a", to: "b", incidents: 3, alerts: 7, mttd_ms: 1200, mttd_excluded: 0, mttr_contain_ms: null, mttr_resolve_ms: 90_000, false_positive_rate: 0.5, coverage: null };
    w.kpis(k, ts);
    expect(await w.flush()).toBe(true);
    expect(w.stats).toMatchObject({ writtenPoints: 7, pendingPoints: 0, droppedPoints: 0, failing: false });

    const [dbs] = await influxQuery("SHOW DATABASES");
    expect(dbs?.series?.[0]?.values?.flat()).toContain(db);
    const policies = await rows(db, `SHOW RETENTION POLICIES ON "${db}"`);
    expect(policies).toContainEqual(expect.objectContaining({ name: "vigil_7d", duration: "168h0m0s", default: true }));

    const events = await rows(db, 'SELECT sum("count") AS n FROM "vigil_7d"."vigil_events" GROUP BY "service", "category"');
    expect(events.map((r) => [r.service, r.category, r.n]).sort()).toEqual([
      ["nginx", "web", 1],
      ["sshd", "authentication", 5],
      ["sshd", "network", 2],
    ]);
    const alerts = await rows(db, 'SELECT sum("count") AS n FROM "vigil_7d"."vigil_alerts" GROUP BY "rule", "severity"');
    expect(alerts.map((r) => [r.rule, r.severity, r.n]).sort()).toEqual([
      ["port_scan", "medium", 1],
      ["ssh_bruteforce", "high", 2],
    ]);
    expect(await rows(db, 'SELECT "score" FROM "vigil_7d"."vigil_anomaly" GROUP BY "model", "entity"')).toEqual([{ model: "logins", entity: "alice", time: ts, score: 0.93 }]);
    expect(await rows(db, 'SELECT * FROM "vigil_7d"."vigil_kpis"')).toEqual([
      { time: ts, incidents: 3, alerts: 7, mttd_ms: 1200, mttr_resolve_ms: 90_000, false_positive_rate: 0.5 },
    ]);
  });

  it("keeps points while InfluxDB is unreachable and writes them when it is back", async () => {
    const db = uniqueName("influx_out");
    const proxy = new Proxy();
    await proxy.up();
    const { logger, lines } = captureLogger();
    const w = track(createInfluxWriter({ url: proxy.url, database: db, intervalMs: 60_000, retryInitialMs: 50, retryMaxMs: 200, requestTimeoutMs: 3_000, logger }), db, proxy);

    for (let i = 0; i < 3; i++) w.countEvent("sshd", "authentication");
    expect(await w.flush()).toBe(true);

    await proxy.down();
    for (let i = 0; i < 4; i++) w.countEvent("sshd", "authentication");
    expect(await w.flush()).toBe(false);
    w.countEvent("sshd", "authentication");
    w.countEvent("sshd", "authentication");
    expect(await w.flush()).toBe(false);
    expect(w.stats).toMatchObject({ pendingBatches: 2, pendingPoints: 2, failing: true, droppedPoints: 0 });
    expect(w.stats.failedWrites).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.level === "warn" && l.msg.includes("write failed"))).toBe(true);

    // Nothing calls flush from here: the writer's own retry delivers once the proxy is back.
    await proxy.up();
    await until(() => w.stats.pendingPoints === 0);
    expect(w.stats).toMatchObject({ writtenPoints: 3, failing: false, droppedPoints: 0 });
    expect(lines.some((l) => l.level === "info" && l.msg.includes("succeed again"))).toBe(true);

    const points = await rows(db, 'SELECT "count" FROM "vigil_events" WHERE "service" = \'sshd\'');
    expect(points.map((p) => p.count)).toEqual([3, 4, 2]);
  });

  it("drops only the oldest intervals beyond its bound, counts and logs them", async () => {
    const db = uniqueName("influx_bound");
    const proxy = new Proxy();
    await proxy.up();
    await proxy.down(); // keeps the port: InfluxDB is "down" from the start
    const { logger, lines } = captureLogger();
    const w = track(createInfluxWriter({ url: proxy.url, database: db, intervalMs: 60_000, maxBufferedBatches: 2, retryInitialMs: 50, retryMaxMs: 100, logger }), db, proxy);
    for (let n = 1; n <= 4; n++) {
      for (let i = 0; i < n; i++) w.countEvent("api", "web");
      expect(await w.flush()).toBe(false);
    }
    expect(w.stats).toMatchObject({ pendingBatches: 2, pendingPoints: 2, droppedPoints: 2 });
    expect(lines.filter((l) => l.msg.includes("buffer full"))).toHaveLength(2);

    await proxy.up();
    expect(await w.flush()).toBe(true);
    const points = await rows(db, 'SELECT "count" FROM "vigil_events"');
    expect(points.map((p) => p.count)).toEqual([3, 4]);
  });

  it("drops a write InfluxDB refuses as malformed instead of retrying it for ever", async () => {
    const db = uniqueName("influx_bad");
    await createInfluxDatabase(db);
    // A string field `count` makes the writer's float `count` a field type conflict (HTTP 400).
    // (Types are per shard, so the conflicting point is written at the same time of day.)
    await influxWrite(db, `vigil_alerts,rule=r,severity=low count="x" ${Date.now()}`, "ms");
    const { logger, lines } = captureLogger();
    const w = track(createInfluxWriter({ url: influxUrl(), database: db, intervalMs: 60_000, logger }), db);
    w.countAlert("r", "low");
    w.countEvent("sshd", "network");
    expect(await w.flush()).toBe(true);
    // InfluxDB keeps the good point of the partial write.
    expect(w.stats).toMatchObject({ droppedPoints: 1, pendingPoints: 0, writtenPoints: 1 });
    expect(lines.some((l) => l.level === "error" && l.msg.includes("malformed"))).toBe(true);
    expect(await rows(db, 'SELECT "count" FROM "vigil_events"')).toEqual([expect.objectContaining({ count: 1 })]);
    w.countEvent("sshd", "network");
    expect(await w.flush()).toBe(true);
    expect(w.stats.writtenPoints).toBe(2);
  });

  it("closes an interval and writes it on its own timer", async () => {
    const db = uniqueName("influx_tick");
    const w = track(createInfluxWriter({ url: influxUrl(), database: db, intervalMs: 100, logger: captureLogger().logger }), db);
    w.countEvent("sshd", "authentication");
    w.countEvent("sshd", "authentication");
    await until(() => w.stats.writtenPoints === 1);
    const [p] = await rows(db, 'SELECT "count", "rate" FROM "vigil_events"');
    expect(p?.count).toBe(2);
    expect(p?.rate).toBeGreaterThan(0);
  });

  it("counts what it could not write by close as dropped", async () => {
    const db = uniqueName("influx_close");
    const proxy = new Proxy();
    await proxy.up();
    await proxy.down();
    const { logger, lines } = captureLogger();
    const w = track(createInfluxWriter({ url: proxy.url, database: db, intervalMs: 60_000, logger }), db, proxy);
    w.countEvent("sshd", "authentication");
    await w.close();
    expect(w.stats).toMatchObject({ droppedPoints: 1, pendingPoints: 0 });
    expect(lines.some((l) => l.msg.includes("closed with points unwritten"))).toBe(true);
  });
});

describe("influxOptionsFromEnv", () => {
  it("is off without INFLUX_URL and reads the interval and retention", () => {
    expect(influxOptionsFromEnv({})).toBeUndefined();
    expect(influxOptionsFromEnv({ INFLUX_URL: "http://h:8086", INFLUX_DATABASE: "m", INFLUX_INTERVAL_MS: "5000", INFLUX_RETENTION: "30d" })).toEqual({
      url: "http://h:8086",
      database: "m",
      intervalMs: 5000,
      retentionPolicy: { name: "vigil_30d", duration: "30d" },
    });
    expect(() => influxOptionsFromEnv({ INFLUX_URL: "http://h", INFLUX_INTERVAL_MS: "soon" })).toThrow(/INFLUX_INTERVAL_MS/);
    expect(() => influxOptionsFromEnv({ INFLUX_URL: "http://h", INFLUX_RETENTION: "a month" })).toThrow(/INFLUX_RETENTION/);
  });

  it("refuses a URL that is not http(s)", () => {
    expect(() => createInfluxWriter({ url: "nats://h:4222" })).toThrow(/http/);
  });
});
