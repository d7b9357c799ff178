import type pg from "pg";
import { type ModelFile, parseModelFile } from "../../engine/anomaly/model-file.js";
import type { ModelStore, StoredModelInfo } from "../../engine/anomaly/store.js";

/** Idempotent DDL of the model store (run by `ensureSchema`). */
export const MODEL_STORE_DDL = `
CREATE TABLE IF NOT EXISTS vigil_models (
  name        text        NOT NULL,
  version     integer     NOT NULL CHECK (version >= 1),
  created_at  timestamptz NOT NULL,
  rows        integer     NOT NULL,
  source      text        NOT NULL,
  metadata    jsonb       NOT NULL,
  model       jsonb       NOT NULL,
  PRIMARY KEY (name, version)
)`;

/** Models in PostgreSQL: one row per (name, version), the training metadata beside the model. */
export class PgModelStore implements ModelStore {
  constructor(private readonly pool: pg.Pool) {}

  async ensureSchema(): Promise<void> {
    await this.pool.query(MODEL_STORE_DDL);
  }

  async save(file: ModelFile): Promise<ModelFile> {
    const metadata = { params: file.params, training: file.training, columns: file.features.columns, implementation: file.implementation };
    // Two trainers racing for the same next version: the primary key refuses one; it retries.
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.pool.query<{ version: number }>(
          `INSERT INTO vigil_models (name, version, created_at, rows, source, metadata, model)
           SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6 FROM vigil_models WHERE name = $1
           RETURNING version`,
          [file.name, file.created_at, file.training.rows, file.training.source, JSON.stringify(metadata), JSON.stringify({ ...file, version: 0 })],
        );
        const version = (r.rows[0] as { version: number }).version;
        return { ...file, version };
      } catch (err) {
        if (attempt < 5 && (err as { code?: string }).code === "23505") continue;
        throw err;
      }
    }
  }

  private async one(sql: string, params: unknown[]): Promise<ModelFile | undefined> {
    const r = await this.pool.query<{ version: number; model: unknown }>(sql, params);
    const row = r.rows[0];
    if (row === undefined) return undefined;
    const f = parseModelFile(row.model, `vigil_models ${String(params[0])}`);
    return { ...f, version: row.version };
  }

  latest(name: string): Promise<ModelFile | undefined> {
    return this.one(`SELECT version, model FROM vigil_models WHERE name = $1 ORDER BY version DESC LIMIT 1`, [name]);
  }

  get(name: string, version: number): Promise<ModelFile | undefined> {
    return this.one(`SELECT version, model FROM vigil_models WHERE name = $1 AND version = $2`, [name, version]);
  }

  async list(name: string): Promise<StoredModelInfo[]> {
    const r = await this.pool.query<{ name: string; version: number; created_at: Date; rows: number; source: string }>(
      `SELECT name, version, created_at, rows, source FROM vigil_models WHERE name = $1 ORDER BY version`,
      [name],
    );
    return r.rows.map((x) => ({ name: x.name, version: x.version, created_at: x.created_at.toISOString(), rows: x.rows, source: x.source }));
  }
}
