/**
 * The one seam between the store's SQL and a database: `query` (rows out) and
 * `transaction`. Two adapters: PostgreSQL through a `pg` pool, and PGlite (PostgreSQL
 * compiled to WebAssembly, in-process) for the embedded default and for tests. The store
 * runs the same SQL on both; it casts counts to `int` and times come back as `Date` on both.
 */
import { mkdirSync } from "node:fs";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";

export type SqlParam = string | number | boolean | null | readonly string[];
export type Row = Record<string, unknown>;

export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<R[]>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PgOptions {
  readonly max?: number;
  readonly connectionTimeoutMillis?: number;
  /** Where a connection error of an idle client is reported (it would otherwise crash the process). */
  readonly onError?: (err: Error) => void;
}

/** PostgreSQL over a `pg` pool. */
export function postgresDatabase(url: string, options: PgOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 5,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
  });
  pool.on("error", (err) => options.onError?.(err));
  const onClient = (client: pg.PoolClient): Queryable => ({
    async query<R extends Row>(sql: string, params: readonly SqlParam[] = []): Promise<R[]> {
      const res = await client.query<R>(sql, params as unknown[]);
      return res.rows;
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  });
  return {
    kind: "postgres",
    async query<R extends Row>(sql: string, params: readonly SqlParam[] = []): Promise<R[]> {
      const res = await pool.query<R>(sql, params as unknown[]);
      return res.rows;
    },
    async exec(sql: string): Promise<void> {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A connection that breaks mid-transaction emits "error" on the checked-out client;
      // the failing query rejects as well, which is what the caller sees.
      const onError = (e: Error): void => {
        broken = e;
        options.onError?.(e);
      };
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await fn(onClient(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackErr) {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        throw err;
      } finally {
        client.off("error", onError);
        // A client whose connection broke is destroyed rather than returned to the pool.
        client.release(broken);
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}

/** PGlite under `dataDir` (created if missing), or in memory when `dataDir` is undefined. */
export async function pgliteDatabase(dataDir: string | undefined): Promise<Database> {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir === undefined ? undefined : dataDir);
  const wrap = (q: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>; exec(sql: string): Promise<unknown> }): Queryable => ({
    async query<R extends Row>(sql: string, params: readonly SqlParam[] = []): Promise<R[]> {
      const res = await q.query<R>(sql, params as unknown[]);
      return res.rows;
    },
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
    },
  });
  const top = wrap(db);
  return {
    kind: "pglite",
    query: (sql, params) => top.query(sql, params),
    exec: (sql) => top.exec(sql),
    // PGlite runs one statement at a time: a query outside the transaction waits for it.
    transaction: <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => db.transaction((tx) => fn(wrap(tx))),
    async close(): Promise<void> {
      await db.close();
    },
  };
}
