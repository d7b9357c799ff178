/**
 * The incident store's write path and audit chain (suite `store`).
 *
 * 1. Alerts/s written through `write()` in batches (one transaction per batch of 500, as the
 *    pipeline hands them over) against the baseline of one transaction per alert, on PGlite
 *    (in memory) and on PostgreSQL (a scratch database on BENCH_DATABASE_URL, default the
 *    local server; skipped when it is unreachable). Alerts fall on 2,000 keys, so most join
 *    an incident and some open one.
 * 2. Audit entries/s: appends (one transaction each, chained under the head lock) and
 *    verification (the whole chain walked and re-hashed).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Alert } from "../engine/index.js";
import { openStore, type SqlIncidentStore } from "../connectors/store/index.js";
import { fmtRate, fmtRatio, printTable } from "./table.js";
import { rng } from "./rng.js";

export interface StoreBenchOptions {
  readonly alerts: number;
}

function makeAlerts(n: number, seed: string): Alert[] {
  const r = rng(42);
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  return Array.from({ length: n }, (_, i) => {
    const at = new Date(t0 + i * 1000).toISOString();
    const ip = `10.${Math.floor(r() * 8)}.${Math.floor(r() * 250)}.1`;
    return {
      id: `${seed}-${i}`,
      rule: "ssh_bruteforce",
      rule_version: "v1",
      title: "SSH brute force",
      severity: "high",
      risk: undefined,
      tags: [],
      keys: { "source.address": ip },
      count: 10,
      value: undefined,
      first_event_at: at,
      last_event_at: at,
      fired_at: at,
      detected_at: at,
      evidence: { event_ids: [`e${i}`], origins: [], truncated: 0 },
      suppressed: 0,
      actions: [],
    };
  });
}

async function rate(n: number, f: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await f();
  return (n / (performance.now() - t)) * 1000;
}

async function writes(store: SqlIncidentStore, n: number): Promise<{ batched: number; single: number }> {
  const batchedAlerts = makeAlerts(n, "b");
  const singleAlerts = makeAlerts(Math.min(n, 2000), "s");
  const batched = await rate(n, async () => {
    for (let i = 0; i < n; i += 500) await store.write(batchedAlerts.slice(i, i + 500), []);
  });
  const single = await rate(singleAlerts.length, async () => {
    for (const a of singleAlerts) await store.write([a], []);
  });
  return { batched, single };
}

async function audit(store: SqlIncidentStore, n: number): Promise<{ append: number; verify: number }> {
  const append = await rate(n, async () => {
    for (let i = 0; i < n; i++) await store.audit.append({ kind: "system", id: "bench" }, "bench.append", `t${i}`, { i });
  });
  const entries = (await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log"))[0]?.n ?? 0;
  let ok = false;
  const verify = await rate(Number(entries), async () => {
    ok = (await store.audit.verify()).ok;
  });
  if (!ok) throw new Error("the benchmark's audit chain does not verify");
  return { append, verify };
}

export async function benchStore(o: StoreBenchOptions): Promise<void> {
  const rows: string[][] = [];
  const run = async (label: string, store: SqlIncidentStore): Promise<void> => {
    const w = await writes(store, o.alerts);
    const a = await audit(store, 2000);
    rows.push([label, fmtRate(w.batched), fmtRate(w.single), fmtRatio(w.batched / w.single), fmtRate(a.append), fmtRate(a.verify)]);
  };
  const lite = await openStore({ databaseUrl: "memory://" });
  try {
    await run("PGlite (in memory)", lite);
  } finally {
    await lite.close();
  }
  const admin = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `vigil_bench_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE "${name}"`);
  } catch (e) {
    console.log(`PostgreSQL skipped (${admin.replace(/\/\/[^@/]*@/, "//…@")}: ${(e as Error).message})`);
    await client.end().catch(() => undefined);
    printTable("incident store", HEADER, rows);
    return;
  }
  try {
    const url = new URL(admin);
    url.pathname = `/${name}`;
    const store = await openStore({ databaseUrl: url.toString() });
    try {
      await run("PostgreSQL", store);
    } finally {
      await store.close();
    }
  } finally {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  }
  printTable(`incident store (${o.alerts.toLocaleString("en-US")} alerts in batches of 500; baseline: one transaction per alert, 2,000 alerts; 2,000 audit appends)`, HEADER, rows);
}

const HEADER = ["database", "alerts/s batched", "alerts/s one per tx", "ratio", "audit appends/s", "audit verify entries/s"];
