/**
 * Helpers for integration tests that talk to the machine's real servers (PostgreSQL,
 * Redis, NATS JetStream, InfluxDB 1.x). Those servers are shared by every test file and by
 * other people working on the machine, so each test isolates itself under a unique name:
 * its own PostgreSQL database, its own InfluxDB database, its own NATS stream and subject
 * prefix, its own Redis key prefix.
 *
 * The servers are started by `bash scripts/services.sh` (CI runs it from `.ci/run`).
 * Addresses come from TEST_DATABASE_URL, TEST_NATS_URL, TEST_REDIS_URL and
 * TEST_INFLUX_URL, with the machine's local servers as defaults.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
const DEFAULT_INFLUX_URL = "http://127.0.0.1:8086";

/** Longest prefix kept by {@link uniqueName}, so that names stay well under 63 characters. */
const MAX_PREFIX_LENGTH = 32;

/** What {@link uniqueName} returns: lowercase letters, digits and underscores. */
const SAFE_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * A short random name, `<prefix>_<10 hex digits>`, safe everywhere a test needs one: a NATS
 * stream or consumer name and a subject token, a Redis key prefix, a PostgreSQL database or
 * schema name (unquoted, at most 43 characters) and an InfluxDB database name. The prefix
 * is lowercased, any other character becomes `_`, and it is cut to 32 characters.
 *
 * @example uniqueName("alerts") // "alerts_3f9c0a17b2"
 */
export function uniqueName(prefix = "t"): string {
  let safe = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, MAX_PREFIX_LENGTH);
  if (safe === "" || !/^[a-z_]/.test(safe)) safe = `t${safe}`.slice(0, MAX_PREFIX_LENGTH);
  return `${safe}_${randomBytes(5).toString("hex")}`;
}

/** NATS server for tests: TEST_NATS_URL, or the local server with JetStream. */
export function natsUrl(): string {
  return process.env.TEST_NATS_URL ?? DEFAULT_NATS_URL;
}

/** Redis server for tests: TEST_REDIS_URL, or the local server. Use a {@link uniqueName} key prefix. */
export function redisUrl(): string {
  return process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
}

/** InfluxDB 1.x HTTP endpoint for tests (no database in it): TEST_INFLUX_URL, or the local server. */
export function influxUrl(): string {
  return (process.env.TEST_INFLUX_URL ?? DEFAULT_INFLUX_URL).replace(/\/+$/, "");
}

/** PostgreSQL server that test databases are created on (its URL names a database to connect to). */
export function adminDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? DEFAULT_DATABASE_URL;
}

function assertSafeName(name: string, what: string): void {
  if (!SAFE_NAME.test(name) || name.length > 63) {
    throw new Error(`${what} name ${JSON.stringify(name)} is not a plain identifier (use uniqueName())`);
  }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

/** A fresh PostgreSQL database of one test. */
export interface PgDatabase {
  /** The database's name, `vigil_test_<random>`. */
  readonly name: string;
  /** Connection URL of the database: the admin URL with this database in its path. */
  readonly url: string;
  /** Drops the database, ending any connection still open to it. Safe to call twice. */
  drop(): Promise<void>;
}

async function withAdminClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** SQLSTATE 55006 object_in_use: CREATE DATABASE while another session uses the template. */
function isObjectInUse(err: unknown): boolean {
  return err instanceof Error && "code" in err && err.code === "55006";
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates a fresh database `vigil_test_<random>` on TEST_DATABASE_URL's server (default
 * postgres://postgres@127.0.0.1:5432/postgres) and returns its URL and a `drop()`.
 *
 * @example
 * const db = await withPgDatabase();
 * afterAll(() => db.drop());
 * const pool = new pg.Pool({ connectionString: db.url });
 */
export async function withPgDatabase(): Promise<PgDatabase> {
  const name = uniqueName("vigil_test");
  assertSafeName(name, "PostgreSQL database");
  await withAdminClient(async (client) => {
    // CREATE DATABASE copies template1 and fails while anyone else is connected to it.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
        return;
      } catch (err) {
        if (!isObjectInUse(err) || attempt >= 10) throw err;
        await sleep(200 * attempt);
      }
    }
  });

  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;

  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop(): Promise<void> {
      if (dropped) return;
      await withAdminClient(async (client) => {
        // A pool's end() resolves before its clients' sockets close; forcing the drop at once
        // terminates them mid-close, and the client's error reaches a pool without a listener
        // as an uncaught exception. So wait for them a little, then force (PostgreSQL 13+)
        // whatever a test really left open.
        for (let waited = 0; waited < 2000; waited += 50) {
          const r = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [name]);
          if ((r.rows[0]?.n ?? 0) === 0) break;
          await sleep(50);
        }
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
      dropped = true;
    },
  };
}

// ---------------------------------------------------------------------------------------
// InfluxDB 1.x (HTTP API)

/** One series of an InfluxDB 1.x query result. */
export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

/** The result of one statement of an InfluxDB 1.x query. */
export interface InfluxStatementResult {
  statement_id: number;
  series?: InfluxSeries[];
  error?: string;
}

interface InfluxQueryResponse {
  results?: InfluxStatementResult[];
  error?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function quoteInfluxIdent(name: string): string {
  return `"${name.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * Runs InfluxQL through `POST /query` (so that it may change things) and returns each
 * statement's result. Throws on an HTTP error or on any statement's error.
 *
 * @param options.db the database the statements run in
 * @param options.epoch return times as numbers in this unit instead of RFC 3339 strings
 */
export async function influxQuery(
  q: string,
  options: { db?: string; epoch?: "ns" | "u" | "ms" | "s" } = {},
): Promise<InfluxStatementResult[]> {
  const body = new URLSearchParams({ q });
  if (options.db !== undefined) body.set("db", options.db);
  if (options.epoch !== undefined) body.set("epoch", options.epoch);
  const res = await fetch(`${influxUrl()}/query`, { method: "POST", body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`InfluxDB ${influxUrl()}/query answered ${res.status}: ${text.slice(0, 200)}`);
  }
  if (!isRecord(parsed)) throw new Error(`InfluxDB /query answered ${res.status}: ${text.slice(0, 200)}`);
  const response = parsed as InfluxQueryResponse;
  if (!res.ok || typeof response.error === "string") {
    throw new Error(`InfluxDB /query answered ${res.status}: ${response.error ?? text.slice(0, 200)}`);
  }
  const results = response.results ?? [];
  const failed = results.find((r) => typeof r.error === "string");
  if (failed) throw new Error(`InfluxDB query ${JSON.stringify(q)} failed: ${failed.error ?? ""}`);
  return results;
}

/**
 * Writes points in the line protocol through `POST /write?db=...`; InfluxDB answers 204.
 *
 * @param precision the unit of the points' timestamps (InfluxDB's default is ns)
 */
export async function influxWrite(
  db: string,
  lines: string | readonly string[],
  precision: "ns" | "u" | "ms" | "s" | "m" | "h" = "ns",
): Promise<void> {
  const params = new URLSearchParams({ db, precision });
  const body = typeof lines === "string" ? lines : lines.join("\n");
  const res = await fetch(`${influxUrl()}/write?${params.toString()}`, { method: "POST", body });
  if (res.status !== 204) {
    throw new Error(`InfluxDB /write to ${db} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  }
}

/** Creates an InfluxDB database (give it a {@link uniqueName}); a no-op if it exists. */
export async function createInfluxDatabase(name: string): Promise<void> {
  assertSafeName(name, "InfluxDB database");
  await influxQuery(`CREATE DATABASE ${quoteInfluxIdent(name)}`);
}

/** Drops an InfluxDB database and all its data; a no-op if it does not exist. */
export async function dropInfluxDatabase(name: string): Promise<void> {
  assertSafeName(name, "InfluxDB database");
  await influxQuery(`DROP DATABASE ${quoteInfluxIdent(name)}`);
}
