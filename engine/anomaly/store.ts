import type { ModelFile } from "./model-file.js";

/** A stored model version: what lists show without loading the forest. */
export interface StoredModelInfo {
  readonly name: string;
  readonly version: number;
  readonly created_at: string;
  readonly rows: number;
  readonly source: string;
}

/**
 * Where trained models are kept, versioned per name: files on the embedded default
 * (connectors/anomaly/file-store.ts), the `vigil_models` table on PostgreSQL
 * (connectors/anomaly/pg-store.ts).
 */
export interface ModelStore {
  /** Stores a new version of `file.name` (the store numbers it: last version + 1) and returns it as stored. */
  save(file: ModelFile): Promise<ModelFile>;
  /** The newest version of a name, if any. */
  latest(name: string): Promise<ModelFile | undefined>;
  get(name: string, version: number): Promise<ModelFile | undefined>;
  /** Every version of a name, oldest first. */
  list(name: string): Promise<StoredModelInfo[]>;
}

export function infoOf(f: ModelFile): StoredModelInfo {
  return { name: f.name, version: f.version, created_at: f.created_at, rows: f.training.rows, source: f.training.source };
}
