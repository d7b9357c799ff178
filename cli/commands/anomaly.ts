import { readFileSync, writeFileSync } from "node:fs";
import pg from "pg";
import { connect } from "@nats-io/transport-node";
import { FileModelStore } from "../../connectors/anomaly/file-store.js";
import { readStreamBaseline } from "../../connectors/anomaly/jetstream-baseline.js";
import { PgModelStore } from "../../connectors/anomaly/pg-store.js";
import { readLogEvents, type LogReadStats } from "../../connectors/sources/log-file.js";
import type { DecoderFormat } from "../../connectors/parsers/index.js";
import { CsvError, type LabelledTable, parseCsvTable } from "../../engine/anomaly/csv-table.js";
import { evaluateTable } from "../../engine/anomaly/evaluate.js";
import { FeatureEncoder, FeatureError } from "../../engine/anomaly/features.js";
import { type ModelFile, parseModelDefinition, parseModelFile, ScoringModel, trainModel } from "../../engine/anomaly/model-file.js";
import type { Implementation } from "../../engine/anomaly/model.js";
import type { ModelStore } from "../../engine/anomaly/store.js";
import type { EngineEvent } from "../../engine/index.js";
import type { Io } from "../io.js";
import { IMPLEMENTATIONS } from "./anomaly-impls.js";

export interface EvalCliOptions {
  readonly label?: string;
  readonly seeds: number;
  readonly json?: boolean;
  readonly trees: number;
  readonly sampleSize: number;
  readonly impl?: readonly Implementation[];
}

function readTable(file: string, label: string | undefined, io: Io): LabelledTable | undefined {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    io.err(`cannot read ${file}: ${(err as Error).message}`);
    return undefined;
  }
  try {
    return parseCsvTable(text, label, file);
  } catch (err) {
    if (err instanceof CsvError) {
      io.err(`${err.code}: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

const f4 = (x: number) => x.toFixed(4);

/**
 * `vigil anomaly eval FILE.csv`: ROC AUC of each implementation on a labelled table (trained
 * on the whole table, labels unseen; seeds 1…N for the native forest, N repeated runs of the
 * unseeded library). Needs no server.
 */
export function runAnomalyEval(file: string, o: EvalCliOptions, io: Io): number {
  const table = readTable(file, o.label ?? "last", io);
  if (table === undefined) return 1;
  const labels = table.labels as Uint8Array;
  const anomalies = labels.reduce((s, v) => s + v, 0);
  if (anomalies === 0 || anomalies === table.x.rows) {
    io.err(`${file}: the label column ${table.labelColumn ?? ""} must hold both 0s and 1s to compute an AUC (it has ${anomalies} of ${table.x.rows} rows at 1)`);
    return 1;
  }
  const result = evaluateTable(table, { seeds: o.seeds, trees: o.trees, sampleSize: o.sampleSize, implementations: o.impl ?? IMPLEMENTATIONS });
  if (o.json === true) {
    const out: Record<string, unknown> = {};
    for (const [impl, r] of Object.entries(result)) out[impl] = { auc_mean: r.auc_mean, auc_sd: r.auc_sd, runs: r.aucs.length, aucs: r.aucs, fit_ms: r.fit_ms, score_ms: r.score_ms };
    io.out(JSON.stringify(out));
    return 0;
  }
  io.out(`${file}: ${table.x.rows} rows, ${table.x.cols} features, ${anomalies} anomalies (${((100 * anomalies) / table.x.rows).toFixed(2)}%); ${o.seeds} runs, ${o.trees} trees, ψ = ${o.sampleSize}`);
  io.out(`${"implementation".padEnd(20)}  ${"AUC mean ± sd".padStart(17)}  ${"fit ms".padStart(9)}  ${"score ms".padStart(9)}`);
  for (const [impl, r] of Object.entries(result)) {
    io.out(`${impl.padEnd(20)}  ${`${f4(r.auc_mean)} ± ${f4(r.auc_sd)}`.padStart(17)}  ${r.fit_ms.toFixed(1).padStart(9)}  ${r.score_ms.toFixed(1).padStart(9)}`);
  }
  return 0;
}

export interface StoreOptions {
  /** A model file to write or read. */
  readonly model?: string;
  /** A directory of versioned model files (the embedded default's store). */
  readonly store?: string;
  /** PostgreSQL: the `vigil_models` table. */
  readonly databaseUrl?: string;
}

async function withStore<T>(o: StoreOptions, use: (s: ModelStore) => Promise<T>): Promise<T | undefined> {
  if (o.store !== undefined) return use(new FileModelStore(o.store));
  if (o.databaseUrl !== undefined) {
    const pool = new pg.Pool({ connectionString: o.databaseUrl, max: 2 });
    // An idle connection the server ends would otherwise be an uncaught error; a query on a
    // broken one fails and is reported by the command.
    pool.on("error", () => undefined);
    try {
      const s = new PgModelStore(pool);
      await s.ensureSchema();
      return await use(s);
    } finally {
      await pool.end();
    }
  }
  return undefined;
}

export interface TrainCliOptions extends StoreOptions {
  /** A model definition file (JSON): FILE is then events (JSON lines or logs). Without it, FILE is a numeric CSV table. */
  readonly spec?: string;
  readonly name?: string;
  readonly label?: string;
  readonly trees?: number;
  readonly sampleSize?: number;
  readonly seed?: number;
  /** Baseline event-time range (RFC 3339), for event files. */
  readonly from?: string;
  readonly to?: string;
  readonly format: DecoderFormat;
  /** Train on the events stream of this NATS server instead of files. */
  readonly natsUrl?: string;
  readonly stream?: string;
}

async function readEvents(files: readonly string[], format: DecoderFormat, io: Io, keep: (ev: EngineEvent) => boolean): Promise<EngineEvent[] | undefined> {
  const events: EngineEvent[] = [];
  const stats: LogReadStats = { lines: 0, events: 0, failures: new Map() };
  let seq = 0;
  for (const f of files) {
    try {
      seq = await readLogEvents(f, { format }, seq, (ev) => void (keep(ev) && events.push(ev)), (fail) => io.err(`${fail.source}:${fail.line}: ${fail.reason}: ${fail.message}`), stats);
    } catch (err) {
      io.err(`cannot read ${f}: ${(err as Error).message}`);
      return undefined;
    }
  }
  return events.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
}

function parseTime(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new FeatureError(`${what}: ${JSON.stringify(v)} is not a time (use RFC 3339, e.g. 2024-05-01T00:00:00Z)`);
  return t;
}

/** Encodes events in event-time order (window features advance as they go). */
function encodeEvents(encoder: FeatureEncoder, events: readonly EngineEvent[]): { rows: number; cols: number; data: Float64Array } {
  const cols = encoder.columns.length;
  const data = new Float64Array(events.length * cols);
  events.forEach((e, i) => encoder.encode(e, data.subarray(i * cols, (i + 1) * cols)));
  return { rows: events.length, cols, data };
}

/**
 * `vigil anomaly train FILE…`: trains a native model on a baseline — a numeric CSV table, or
 * (with `--spec`) a replayed history of events, optionally cut to `--from`/`--to` — and writes
 * it to `--model FILE`, a `--store DIR` or PostgreSQL (`--database-url`), versioned, with its
 * training metadata and calibration.
 */
export async function runAnomalyTrain(files: readonly string[], o: TrainCliOptions, io: Io): Promise<number> {
  try {
    let file: ModelFile;
    if (o.spec === undefined) {
      if (o.natsUrl !== undefined) {
        io.err("train: training on a stream needs --spec MODEL.json (the features to compute from its events)");
        return 2;
      }
      if (files.length !== 1) {
        io.err("train: a table model takes one CSV file (give --spec MODEL.json to train on event files)");
        return 2;
      }
      const table = readTable(files[0] as string, o.label, io);
      if (table === undefined) return 1;
      file = trainModel({
        name: o.name ?? "table",
        x: table.x,
        columns: table.columns,
        defs: null,
        source: files[0] as string,
        params: { trees: o.trees, sampleSize: o.sampleSize, seed: o.seed },
      }).file;
    } else {
      const def = parseModelDefinition(JSON.parse(readFileSync(o.spec, "utf8")), o.spec);
      const from = parseTime(o.from, "--from");
      const to = parseTime(o.to, "--to");
      if (o.natsUrl === undefined && files.length === 0) {
        io.err("train: give event files, or --nats-url to train on the events stream");
        return 2;
      }
      let events: EngineEvent[] | undefined;
      let source = files.join(", ");
      if (o.natsUrl !== undefined) {
        const nc = await connect({ servers: o.natsUrl, name: "vigil anomaly train" });
        const stream = o.stream ?? "SECURITY_EVENTS";
        const got: EngineEvent[] = [];
        try {
          const st = await readStreamBaseline(nc, stream, { fromMs: from, toMs: to }, (ev) => got.push(ev));
          io.err(`stream ${stream}: ${st.messages} messages, ${st.events} events in range, ${st.undecodable} undecodable`);
        } finally {
          await nc.close();
        }
        events = got.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
        source = `${o.natsUrl} stream ${stream}`;
      } else events = await readEvents(files, o.format, io, (ev) => (from === undefined || ev.ts >= from) && (to === undefined || ev.ts < to));
      if (events === undefined) return 1;
      if (events.length === 0) {
        io.err(`train: no events in ${source}${from !== undefined || to !== undefined ? " within --from/--to" : ""}: nothing to learn from`);
        return 1;
      }
      const encoder = new FeatureEncoder(def.features);
      const state = encoder.learn(events);
      const x = encodeEvents(encoder, events);
      file = trainModel({
        name: o.name ?? def.name,
        x,
        columns: encoder.columns,
        defs: def.features,
        state,
        source,
        from: new Date((events[0] as EngineEvent).ts).toISOString(),
        to: new Date((events[events.length - 1] as EngineEvent).ts).toISOString(),
        params: { trees: o.trees ?? def.trees, sampleSize: o.sampleSize ?? def.sampleSize, seed: o.seed ?? def.seed },
      }).file;
    }
    const stored = await withStore(o, (s) => s.save(file));
    if (stored !== undefined) file = stored;
    else if (o.model !== undefined) writeFileSync(o.model, JSON.stringify(file) + "\n");
    else {
      io.err("train: say where the model goes: --model FILE, --store DIR or --database-url URL");
      return 2;
    }
    io.err(
      `trained ${file.name} v${file.version}: ${file.training.rows} rows, ${file.features.columns.length} features, ${file.params.trees} trees, ψ = ${file.params.sampleSize}, seed ${file.params.seed}, ${file.training.fit_ms.toFixed(1)} ms`,
    );
    return 0;
  } catch (err) {
    if (err instanceof FeatureError || err instanceof SyntaxError || err instanceof RangeError) {
      io.err(`train: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

export interface ScoreCliOptions extends StoreOptions {
  readonly name?: string;
  readonly version?: number;
  readonly label?: string;
  readonly format: DecoderFormat;
  /** Print only rows whose calibrated score is above this. */
  readonly above?: number;
}

/**
 * `vigil anomaly score FILE…`: scores a CSV table (a table model) or events (a model trained
 * from a definition) with a stored model; one JSON line per row: raw and calibrated scores.
 */
export async function runAnomalyScore(files: readonly string[], o: ScoreCliOptions, io: Io): Promise<number> {
  try {
    let file: ModelFile | undefined;
    if (o.model !== undefined) file = parseModelFile(JSON.parse(readFileSync(o.model, "utf8")), o.model);
    else {
      if (o.name === undefined) {
        io.err("score: name the model: --model FILE, or --name NAME with --store DIR or --database-url URL");
        return 2;
      }
      const name = o.name;
      const found = await withStore(o, (s) => (o.version === undefined ? s.latest(name) : s.get(name, o.version)));
      if (found === undefined) {
        io.err(`score: no model ${name}${o.version === undefined ? "" : ` v${o.version}`} in the store`);
        return 1;
      }
      file = found;
    }
    const model = ScoringModel.load(file);
    const above = o.above ?? -Infinity;
    if (file.features.defs === null) {
      if (files.length !== 1) {
        io.err("score: a table model scores one CSV file");
        return 2;
      }
      const table = readTable(files[0] as string, o.label, io);
      if (table === undefined) return 1;
      if (table.columns.join(",") !== file.features.columns.join(",")) {
        io.err(`score: the table's columns (${table.columns.join(", ")}) are not the model's (${file.features.columns.join(", ")})`);
        return 1;
      }
      const { raw, calibrated } = model.score(table.x);
      for (let i = 0; i < raw.length; i++) if ((calibrated[i] as number) > above) io.out(JSON.stringify({ row: i + 1, raw: raw[i], score: calibrated[i] }));
      return 0;
    }
    const events = await readEvents(files, o.format, io, () => true);
    if (events === undefined) return 1;
    const encoder = new FeatureEncoder(file.features.defs, file.features.state);
    const x = encodeEvents(encoder, events);
    const { raw, calibrated } = model.score(x);
    events.forEach((ev, i) => {
      if ((calibrated[i] as number) > above) io.out(JSON.stringify({ id: ev.id, "@timestamp": new Date(ev.ts).toISOString(), raw: raw[i], score: calibrated[i] }));
    });
    return 0;
  } catch (err) {
    if (err instanceof FeatureError || err instanceof SyntaxError || err instanceof RangeError) {
      io.err(`score: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
