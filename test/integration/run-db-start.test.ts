/**
 * `vigil run` started while its PostgreSQL is unreachable (a restart during a failover): it
 * retries for `database.connect_timeout` and starts once the database answers; past the
 * timeout it gives up with the reason.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { main } from "../../cli/main.js";
import { adminDatabaseUrl, withPgDatabase, type PgDatabase } from "../support/services.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

let db: PgDatabase;
let proxy: TcpProxy;
let url: string;
const KEYS = ["NATS_URL", "DATABASE_URL", "VIGIL_API_ENABLED", "VIGIL_DATABASE_CONNECT_TIMEOUT", "VIGIL_LOG_LEVEL", "VIGIL_DATA_DIR"] as const;
const saved = new Map(KEYS.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  db = await withPgDatabase();
  const target = new URL(adminDatabaseUrl());
  proxy = await startTcpProxy(Number(target.port || "5432"), target.hostname);
  const u = new URL(db.url);
  u.host = `127.0.0.1:${proxy.port}`;
  url = u.toString();
});

afterAll(async () => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await proxy.close();
  await db.drop();
});

function env(timeout: string): void {
  delete process.env.NATS_URL;
  process.env.DATABASE_URL = url;
  process.env.VIGIL_API_ENABLED = "false";
  process.env.VIGIL_DATABASE_CONNECT_TIMEOUT = timeout;
  process.env.VIGIL_LOG_LEVEL = "warn";
}

describe("vigil run with its database unreachable at start", () => {
  test("waits for it (retrying) and runs once it answers", async () => {
    env("30s");
    const dir = mkdtempSync(join(tmpdir(), "vigil-dbstart-"));
    process.env.VIGIL_DATA_DIR = dir;
    proxy.cut();
    const errs: string[] = [];
    const out: string[] = [];
    const restore = setTimeout(() => proxy.restore(), 1500);
    try {
      const code = await main(["run", "--input", "examples/auth.log", "--year", "2024"], { out: (l) => out.push(l), err: (l) => errs.push(l) });
      expect(code, errs.join("\n")).toBe(0);
      expect(errs.join("\n")).toContain("the database is unreachable at start: retrying");
      expect(out.length).toBeGreaterThan(10); // the alerts
    } finally {
      clearTimeout(restore);
      proxy.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("gives up with the reason once database.connect_timeout has passed", async () => {
    env("1s");
    const dir = mkdtempSync(join(tmpdir(), "vigil-dbstart-"));
    process.env.VIGIL_DATA_DIR = dir;
    proxy.cut();
    const errs: string[] = [];
    try {
      const started = Date.now();
      const code = await main(["run", "--input", "examples/auth.log"], { out: () => undefined, err: (l) => errs.push(l) });
      expect(code).toBe(1);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(errs.join("\n")).toMatch(/the main job failed|Connection terminated/);
    } finally {
      proxy.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
