import { type Calibration, calibrate, fitCalibration } from "./calibration.js";
import { FeatureError, type FeatureDef, type FeatureState } from "./features.js";
import { DEFAULT_SAMPLE_SIZE, DEFAULT_TREES, type ForestJson, IsolationForest } from "./forest.js";
import type { Matrix } from "./matrix.js";

/** A feature definition as written in a model definition file (no compiled expressions). */
export type FeatureDefJson = Exclude<FeatureDef, { kind: "expr" }>;

/** A model definition file: what to compute from events and how to train. */
export interface ModelDefinition {
  readonly name: string;
  readonly features: readonly FeatureDefJson[];
  readonly trees: number;
  readonly sampleSize: number;
  readonly seed: number;
}

/**
 * A trained model as stored (a JSON file on the embedded default, a `vigil_models` row on
 * PostgreSQL): the forest, its calibration, the feature spec and learned encoder state, and
 * the training metadata. Only the native forest is stored: it is seeded and keeps no
 * training rows.
 */
export interface ModelFile {
  readonly format: "vigil-anomaly-model/1";
  readonly name: string;
  /** 1, 2, … per name: each retrain is a new version. */
  readonly version: number;
  readonly created_at: string;
  readonly implementation: "native";
  readonly params: { readonly trees: number; readonly sampleSize: number; readonly seed: number };
  readonly features: {
    /** The definitions events are encoded with; null for a model of a numeric table (CSV columns). */
    readonly defs: readonly FeatureDefJson[] | null;
    /** Column names of the rows the forest takes. */
    readonly columns: readonly string[];
    readonly state: FeatureState;
  };
  readonly training: {
    readonly rows: number;
    /** Where the baseline came from: a file, a stream range, a warm-up period. */
    readonly source: string;
    /** Event-time range of the baseline, when known (RFC 3339). */
    readonly from?: string;
    readonly to?: string;
    readonly fit_ms: number;
  };
  readonly calibration: Calibration;
  readonly forest: ForestJson;
}

export interface TrainInput {
  readonly name: string;
  readonly version?: number;
  readonly x: Matrix;
  readonly columns: readonly string[];
  readonly defs: readonly FeatureDefJson[] | null;
  readonly state?: FeatureState;
  readonly source: string;
  readonly from?: string;
  readonly to?: string;
  readonly params?: { readonly trees?: number; readonly sampleSize?: number; readonly seed?: number };
  readonly now?: () => number;
}

/** Trains a native forest on the baseline and calibrates it on the baseline's own scores. */
export function trainModel(t: TrainInput): { file: ModelFile; model: ScoringModel } {
  if (t.columns.length !== t.x.cols) throw new RangeError(`${t.columns.length} column names for ${t.x.cols} columns`);
  const t0 = performance.now();
  const forest = IsolationForest.fit(t.x, t.params);
  const fitMs = performance.now() - t0;
  const calibration = fitCalibration(forest.scores(t.x));
  const file: ModelFile = {
    format: "vigil-anomaly-model/1",
    name: t.name,
    version: t.version ?? 1,
    created_at: new Date((t.now ?? Date.now)()).toISOString(),
    implementation: "native",
    params: { trees: forest.trees, sampleSize: forest.sampleSize, seed: forest.seed },
    features: { defs: t.defs, columns: [...t.columns], state: t.state ?? { frequencies: {} } },
    training: { rows: t.x.rows, source: t.source, ...(t.from === undefined ? {} : { from: t.from }), ...(t.to === undefined ? {} : { to: t.to }), fit_ms: Math.round(fitMs * 1000) / 1000 },
    calibration,
    forest: forest.toJSON(),
  };
  return { file, model: new ScoringModel(file, forest) };
}

/** A loaded model: raw and calibrated scores. */
export class ScoringModel {
  constructor(
    readonly file: ModelFile,
    readonly forest: IsolationForest,
  ) {}

  static load(file: ModelFile): ScoringModel {
    return new ScoringModel(file, IsolationForest.fromJSON(file.forest));
  }

  /** Raw and calibrated scores of every row. */
  score(x: Matrix): { raw: Float64Array; calibrated: Float64Array } {
    const raw = this.forest.scores(x);
    const calibrated = raw.map((r) => calibrate(this.file.calibration, r));
    return { raw, calibrated };
  }

  /** One row's scores. */
  scoreRow(row: Float64Array): { raw: number; score: number } {
    const raw = this.forest.scores({ rows: 1, cols: row.length, data: row })[0] as number;
    return { raw, score: calibrate(this.file.calibration, raw) };
  }
}

/* ---- validation of files read from disk or the database ---- */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration like `1m`, `30s`, `1h`, or a number of ms. */
export function parseDurationMs(v: unknown, where: string): number {
  if (typeof v === "number" && v > 0) return v;
  const m = typeof v === "string" ? DURATION.exec(v.trim()) : null;
  if (m === null) throw new FeatureError(`${where}: expected a duration like "1m", "30s" or "1h", got ${JSON.stringify(v)}`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, k: string, where: string, optional = false): string | undefined {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  if (typeof v !== "string" || v === "") throw new FeatureError(`${where}: "${k}" must be a non-empty string`);
  return v;
}

function wholeNumber(o: Record<string, unknown>, k: string, def: number, where: string): number {
  const v = o[k] ?? def;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new FeatureError(`${where}: "${k}" must be a whole number ≥ 1`);
  return v;
}

/** Validates a parsed model definition (JSON): every problem names its place (`features[2].agg`). */
export function parseModelDefinition(json: unknown, file = "model definition"): ModelDefinition {
  if (!isObj(json)) throw new FeatureError(`${file}: expected a JSON object`);
  const name = str(json, "name", file) as string;
  if (!Array.isArray(json.features) || json.features.length === 0) throw new FeatureError(`${file}: "features" must be a non-empty array`);
  const features = json.features.map((f: unknown, i): FeatureDefJson => {
    const where = `${file}: features[${i}]`;
    if (!isObj(f)) throw new FeatureError(`${where}: expected an object`);
    const fname = str(f, "name", where) as string;
    switch (f.kind) {
      case "numeric":
        return { name: fname, kind: "numeric", field: str(f, "field", where) as string };
      case "category": {
        const encoding = f.encoding ?? "frequency";
        if (encoding !== "frequency" && encoding !== "hash") throw new FeatureError(`${where}: "encoding" must be "frequency" or "hash"`);
        return encoding === "hash"
          ? { name: fname, kind: "category", field: str(f, "field", where) as string, encoding, buckets: wholeNumber(f, "buckets", 8, where) }
          : { name: fname, kind: "category", field: str(f, "field", where) as string, encoding };
      }
      case "hour_of_day":
      case "day_of_week": {
        const field = str(f, "field", where, true);
        return field === undefined ? { name: fname, kind: f.kind } : { name: fname, kind: f.kind, field };
      }
      case "window": {
        if (f.agg !== "count" && f.agg !== "distinct" && f.agg !== "sum") throw new FeatureError(`${where}: "agg" must be "count", "distinct" or "sum"`);
        if (!Array.isArray(f.by) || f.by.length === 0 || !f.by.every((b) => typeof b === "string" && b !== "")) throw new FeatureError(`${where}: "by" must be a non-empty array of field names`);
        const field = str(f, "field", where, f.agg === "count");
        const windowMs = parseDurationMs(f.window ?? f.windowMs, `${where}.window`);
        return { name: fname, kind: "window", agg: f.agg, by: f.by as string[], windowMs, ...(field === undefined ? {} : { field }) };
      }
      default:
        throw new FeatureError(`${where}: "kind" must be one of numeric, category, hour_of_day, day_of_week, window (got ${JSON.stringify(f.kind)})`);
    }
  });
  return {
    name,
    features,
    trees: wholeNumber(json, "trees", DEFAULT_TREES, file),
    sampleSize: wholeNumber(json, "sampleSize", DEFAULT_SAMPLE_SIZE, file),
    seed: typeof json.seed === "number" && Number.isInteger(json.seed) ? json.seed : 1,
  };
}

/** Checks a stored model's shape before use (a clear error, not a crash mid-stream). */
export function parseModelFile(json: unknown, file = "model file"): ModelFile {
  if (!isObj(json) || json.format !== "vigil-anomaly-model/1") throw new FeatureError(`${file}: not a Vigil anomaly model (format "vigil-anomaly-model/1")`);
  const m = json as unknown as ModelFile;
  if (typeof m.name !== "string" || !Number.isInteger(m.version) || !isObj(m.forest) || !isObj(m.calibration) || !Array.isArray(m.calibration.knots) || !isObj(m.features) || !Array.isArray(m.features.columns)) {
    throw new FeatureError(`${file}: a field is missing or has the wrong type (name, version, features, calibration, forest)`);
  }
  if (m.features.columns.length !== m.forest.features) throw new FeatureError(`${file}: ${m.features.columns.length} columns but the forest takes ${m.forest.features}`);
  return m;
}
