/**
 * Opening the store: PostgreSQL when a URL is given, otherwise PGlite (in-process
 * PostgreSQL) under a local data folder, or in memory for `memory://`. Migrations run on open.
 */
import { resolve } from "node:path";
import type { IncidentStoreOptions } from "./types.js";
import { pgliteDatabase, postgresDatabase, type Database } from "./db.js";
import { SqlIncidentStore } from "./store.js";

export const DEFAULT_DATA_DIR = "./.vigil/db";
export const MEMORY_URL = "memory://";

export interface OpenStoreOptions extends IncidentStoreOptions {
  /** `postgres://…` (or `postgresql://…`) for PostgreSQL; `memory://` for an in-memory PGlite. */
  readonly databaseUrl?: string;
  /** PGlite's data folder when no URL is given (default `./.vigil/db`). */
  readonly dataDir?: string;
  /** Run pending migrations on open (default true). */
  readonly migrate?: boolean;
  /** The clock of transitions, audit entries and KPIs (tests). */
  readonly now?: () => Date;
  /** Pool size for PostgreSQL (default 5). */
  readonly poolSize?: number;
  /** Where connection errors of idle PostgreSQL clients are reported. */
  readonly onConnectionError?: (err: Error) => void;
}

export async function openDatabase(o: Pick<OpenStoreOptions, "databaseUrl" | "dataDir" | "poolSize" | "onConnectionError"> = {}): Promise<Database> {
  const url = o.databaseUrl;
  if (url === undefined || url === "") return pgliteDatabase(resolve(o.dataDir ?? DEFAULT_DATA_DIR));
  if (url === MEMORY_URL) return pgliteDatabase(undefined);
  if (/^postgres(ql)?:\/\//.test(url)) {
    return postgresDatabase(url, { ...(o.poolSize === undefined ? {} : { max: o.poolSize }), ...(o.onConnectionError === undefined ? {} : { onError: o.onConnectionError }) });
  }
  throw new Error(`DATABASE_URL must start with postgres:// or postgresql:// (or be memory:// for an in-memory store), got ${JSON.stringify(url.replace(/\/\/[^@/]*@/, "//…@"))}`);
}

/** Opens the incident store (and migrates it unless `migrate: false`). */
export async function openStore(o: OpenStoreOptions = {}): Promise<SqlIncidentStore> {
  const db = await openDatabase(o);
  const store = new SqlIncidentStore(db, o);
  if (o.migrate !== false) {
    try {
      await store.migrate();
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
  }
  return store;
}
