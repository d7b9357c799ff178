/**
 * The database goes away during a replay: a TCP proxy the test controls stands between the
 * store and the machine's PostgreSQL, and cuts every connection (refusing new ones) for a
 * while. The alerts go through the BufferedAlertSink as `vigil run` sends them: the
 * pipeline acknowledges a batch only once `write` resolves. Afterwards every alert is in the
 * database exactly once, grouped as without the outage, and the pipeline was held back
 * instead of the buffer overflowing.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPack } from "../../dsl/index.js";
import { Engine, type Alert, type EngineEvent } from "../../engine/index.js";
import { readLogEvents } from "../sources/log-file.js";
import { adminDatabaseUrl, withPgDatabase, type PgDatabase } from "../../test/support/services.js";
import { startTcpProxy, type TcpProxy } from "../../test/support/tcp-proxy.js";
import { BufferedAlertSink } from "./buffered-sink.js";
import { openStore } from "./open.js";
import type { SqlIncidentStore } from "./store.js";

async function replayEvents(): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  await readLogEvents("examples/auth.log", { format: "auto" }, 0, (e) => events.push(e), () => undefined, { lines: 0, events: 0, failures: new Map() });
  return events;
}

describe("incident store: the database unreachable during a replay", () => {
  let pgdb: PgDatabase;
  let proxy: TcpProxy;
  let store: SqlIncidentStore;

  beforeAll(async () => {
    pgdb = await withPgDatabase();
    const target = new URL(pgdb.url);
    proxy = await startTcpProxy(Number(target.port || "5432"), target.hostname);
    const viaProxy = new URL(pgdb.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    store = await openStore({ databaseUrl: viaProxy.toString(), onConnectionError: () => undefined });
  });
  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await pgdb?.drop();
  });

  it("loses no alert and writes none twice; the pipeline stops acknowledging instead of overflowing", { timeout: 180_000 }, async () => {
    expect(adminDatabaseUrl()).toMatch(/^postgres/);
    const pack = loadPack([{ path: "rules/auth.vigil", text: readFileSync("rules/auth.vigil", "utf8") }]);
    let fresh: Alert[] = [];
    const updates = new Set<Alert>();
    const all: Alert[] = [];
    const engine = new Engine(pack, {
      onAlert: (a) => {
        fresh.push(a);
        all.push(a);
      },
      onAlertUpdate: (a) => void updates.add(a),
    });
    const maxBuffered = 8;
    const sink = new BufferedAlertSink(store, { maxBuffered, initialRetryMs: 20, maxRetryMs: 200 });
    const events = await replayEvents();
    const chunk = 100;
    let acked = 0;
    let largestBuffer = 0;
    let largestBatch = 0;
    let blockedMs = 0;
    let ackedWhenCut = -1;
    let ackedWhenRestored = -1;
    const send = async (): Promise<void> => {
      const batch = fresh;
      fresh = [];
      const changed = [...updates].filter((a) => !batch.includes(a));
      updates.clear();
      largestBatch = Math.max(largestBatch, batch.length + changed.length);
      const started = Date.now();
      await sink.write(batch, changed);
      blockedMs = Math.max(blockedMs, Date.now() - started);
      largestBuffer = Math.max(largestBuffer, sink.stats().buffered);
    };

    let restoring: Promise<void> | undefined;
    for (let i = 0; i < events.length; i += chunk) {
      if (i === 10 * chunk) {
        proxy.cut();
        ackedWhenCut = acked;
        restoring = new Promise((resolve) =>
          setTimeout(() => {
            ackedWhenRestored = acked;
            proxy.restore();
            resolve();
          }, 1500),
        );
      }
      for (const e of events.slice(i, i + chunk)) engine.process(e);
      await send();
      acked += Math.min(chunk, events.length - i);
    }
    engine.finish();
    await send();
    await restoring;
    await sink.flush();

    const stats = sink.stats();
    expect(stats.retries).toBeGreaterThan(0);
    expect(stats.buffered).toBe(0);
    expect(stats.rejected).toBe(0);
    // Held back: acknowledgements stopped during the outage, well before the end of the log,
    // and the buffer never held more than its bound plus the batch being handed over.
    expect(ackedWhenCut).toBe(1000);
    expect(ackedWhenRestored).toBeLessThanOrEqual(ackedWhenCut + 3 * chunk);
    expect(blockedMs).toBeGreaterThan(1000);
    expect(proxy.accepted).toBeGreaterThan(1); // the pool reconnected through the proxy
    expect(largestBuffer).toBeLessThanOrEqual(maxBuffered + largestBatch);

    // Every alert once, with its final suppressed count.
    const rows = await store.db.query<{ id: string; suppressed: number }>("SELECT id, suppressed FROM alerts");
    expect(all.length).toBeGreaterThan(20);
    expect(rows).toHaveLength(all.length);
    expect(new Map(rows.map((r) => [r.id, Number(r.suppressed)]))).toEqual(new Map(all.map((a) => [a.id, a.suppressed])));

    // The same incidents as writing everything at once without an outage.
    const reference = await openStore({ databaseUrl: "memory://" });
    try {
      await reference.write(all, []);
      const incidents = async (s: SqlIncidentStore): Promise<Map<string, number>> =>
        new Map((await s.listIncidents({}, 1000, null)).items.map((i) => [i.id, i.alert_count]));
      expect(await incidents(store)).toEqual(await incidents(reference));
    } finally {
      await reference.close();
    }
    expect((await store.audit.verify()).ok).toBe(true);
  });
});
