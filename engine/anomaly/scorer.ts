import type { CompiledAnomaly, CompiledModel, KeySpec } from "../../dsl/index.js";
import { keyText } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";
import { type FeatureDef, FeatureEncoder, featuresFromExpressions, fnv1a } from "./features.js";
import { type ModelFile, parseModelFile, ScoringModel, trainModel } from "./model-file.js";
import { type Rng, seededRng } from "./rng.js";

export interface AnomalyOptions {
  /** Baseline rows kept per key for (re)training, sampled uniformly over the `train` period (reservoirs per `retrain` chunk). Default 2048. */
  readonly reservoir?: number;
  /** Fewest baseline rows a key needs before it is trained. Default 64. */
  readonly minRows?: number;
  /** Baseline length when the model declares no `train`. Default 1 day. */
  readonly defaultTrainMs?: number;
  readonly trees?: number;
  readonly sampleSize?: number;
  /** Called with each newly trained model version (to store it: files or PostgreSQL). */
  readonly onTrained?: (file: ModelFile, key: string) => void;
  /** Called with every score (to write it to InfluxDB: connectors/anomaly/influx-scores.ts). */
  readonly onScore?: (s: ScoreRecord) => void;
}

/** One scored event, as written to the time-series store. */
export interface ScoreRecord {
  readonly model: string;
  readonly version: number;
  /** The key's values joined by `|` ("" for a model without `by`). */
  readonly key: string;
  /** Event time (ms). */
  readonly ts: number;
  readonly eventId: string;
  readonly raw: number;
  readonly score: number;
  readonly fired: boolean;
}

/** The outcome of scoring one event. */
export interface AnomalyDecision {
  /** Raw isolation-forest score, 2^(−E[h]/c(ψ)). */
  readonly raw: number;
  /** Calibrated score: the quantile of the raw score among the baseline's (what thresholds compare). */
  readonly score: number;
  readonly fires: boolean;
  readonly keyValues: readonly unknown[];
  readonly keyPaths: readonly KeySpec[];
  readonly model: string;
  readonly modelVersion: number;
}

/** A reservoir sample of the events of one chunk of event time, and how many it saw. */
interface Chunk {
  readonly start: number;
  events: EngineEvent[];
  seen: number;
}

interface KeyModel {
  readonly keyValues: readonly unknown[];
  /** Event time of the key's first event (chunks are aligned to it). */
  baselineStart: number;
  /** Event time of the last training, once trained. */
  trainedAt: number | undefined;
  version: number;
  scorer: ScoringModel | undefined;
  encoder: FeatureEncoder;
  /**
   * The sliding baseline: reservoir samples of consecutive chunks of event time (each a
   * `retrain` period long, or the whole `train` period without `retrain`), oldest first; chunks
   * that ended more than a `train` period ago are dropped.
   */
  chunks: Chunk[];
}

const DAY_MS = 86_400_000;

/**
 * Scores the events an `anomaly` rule matched: one model per key of the model's `by`; each
 * learns from its baseline (the `train` period of event time from the key's first event,
 * a uniform sample of it), then scores every event; every `retrain` period it is retrained
 * on the latest `train` period of events (a sliding baseline, not only the events since the
 * last training). Nothing is scored before the first training.
 * Deterministic: a key's model seed derives from the model name, the key and the version.
 */
export class AnomalyScorer {
  private readonly keys = new Map<string, KeyModel>();
  private readonly defs: readonly FeatureDef[];
  private readonly trainMs: number;
  private readonly retrainMs: number | undefined;
  private readonly reservoirSize: number;
  /** Length of a baseline chunk, and the most rows its reservoir keeps. */
  private readonly chunkMs: number;
  private readonly chunkCap: number;
  private readonly minRows: number;
  private readonly rng: Rng;
  readonly by: readonly KeySpec[];

  constructor(
    private readonly corr: CompiledAnomaly,
    private readonly model: CompiledModel,
    private readonly maxKeys: number,
    private readonly onEvict: () => void,
    private readonly opts: AnomalyOptions = {},
  ) {
    this.defs = corr.features !== undefined ? featuresFromExpressions(corr.features.map((get, i) => ({ text: `f${i}`, get }))) : featuresFromExpressions(model.features);
    this.trainMs = model.trainMs ?? opts.defaultTrainMs ?? DAY_MS;
    this.retrainMs = model.retrainMs;
    this.reservoirSize = opts.reservoir ?? 2048;
    this.chunkMs = Math.min(this.retrainMs ?? this.trainMs, this.trainMs);
    this.chunkCap = Math.max(1, Math.ceil((this.reservoirSize * this.chunkMs) / this.trainMs));
    this.minRows = opts.minRows ?? 64;
    this.by = model.by;
    this.rng = seededRng(fnv1a(model.name));
  }

  /** Scores (or learns from) one matched event. Undefined while the key is still learning. */
  observe(ev: EngineEvent): AnomalyDecision | undefined {
    const keyValues: unknown[] = [];
    for (const k of this.by) {
      const v = k.read(ev.fields);
      const first = Array.isArray(v) ? (v as unknown[])[0] : v;
      if (first === undefined || first === null || first === "") return undefined;
      keyValues.push(first);
    }
    const key = keyValues.map(keyText).join("\u001f");
    let km = this.keys.get(key);
    if (km === undefined) {
      if (this.keys.size >= this.maxKeys) {
        const oldest = this.keys.keys().next().value;
        if (oldest !== undefined) {
          this.keys.delete(oldest);
          this.onEvict();
        }
      }
      km = { keyValues, baselineStart: ev.ts, trainedAt: undefined, version: 0, scorer: undefined, encoder: new FeatureEncoder(this.defs), chunks: [] };
      this.keys.set(key, km);
    }
    const due = km.trainedAt === undefined ? ev.ts >= km.baselineStart + this.trainMs : this.retrainMs !== undefined && ev.ts >= km.trainedAt + this.retrainMs;
    this.prune(km, ev.ts);
    if (due && this.rows(km) >= this.minRows) this.train(km, key, ev.ts);
    this.sample(km, ev);
    if (km.scorer === undefined) return undefined;
    const { raw, score } = km.scorer.scoreRow(km.encoder.encode(ev));
    const fires = compare(score, this.corr.op, this.corr.value);
    this.opts.onScore?.({ model: this.model.name, version: km.version, key: keyValues.map(keyText).join("|"), ts: ev.ts, eventId: ev.id, raw, score, fired: fires });
    return { raw, score, fires, keyValues, keyPaths: this.by, model: this.model.name, modelVersion: km.version };
  }

  private sample(km: KeyModel, ev: EngineEvent): void {
    let c = km.chunks[km.chunks.length - 1];
    if (c === undefined || ev.ts >= c.start + this.chunkMs) {
      const start = km.baselineStart + Math.floor((ev.ts - km.baselineStart) / this.chunkMs) * this.chunkMs;
      c = { start, events: [], seen: 0 };
      km.chunks.push(c);
    }
    c.seen++;
    if (c.events.length < this.chunkCap) c.events.push(ev);
    else {
      const j = Math.floor(this.rng() * c.seen);
      if (j < this.chunkCap) c.events[j] = ev;
    }
  }

  /** Drops the chunks that ended a `train` period or more before `now`. */
  private prune(km: KeyModel, now: number): void {
    while (km.chunks.length > 0 && (km.chunks[0] as Chunk).start + this.chunkMs <= now - this.trainMs) km.chunks.shift();
  }

  private rows(km: KeyModel): number {
    return km.chunks.reduce((s, c) => s + c.events.length, 0);
  }

  /**
   * The training sample: every chunk sampled at the same rate (the lowest of their reservoirs'),
   * so the sample is uniform over the whole baseline however the traffic varied.
   */
  private baseline(km: KeyModel): EngineEvent[] {
    const rate = Math.min(...km.chunks.map((c) => c.events.length / c.seen));
    const out: EngineEvent[] = [];
    for (const c of km.chunks) {
      const take = Math.min(c.events.length, Math.max(1, Math.round(rate * c.seen)));
      const pool = [...c.events];
      // Partial Fisher–Yates with the scorer's seeded PRNG: a uniform subset of the reservoir.
      for (let i = 0; i < take; i++) {
        const j = i + Math.floor(this.rng() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j] as EngineEvent, pool[i] as EngineEvent];
        out.push(pool[i] as EngineEvent);
      }
    }
    return out;
  }

  private train(km: KeyModel, key: string, at: number): void {
    const events = this.baseline(km).sort((a, b) => a.ts - b.ts || a.seq - b.seq);
    const seen = km.chunks.reduce((s, c) => s + c.seen, 0);
    const from = Math.max(km.chunks[0]?.start ?? at, at - this.trainMs);
    const encoder = new FeatureEncoder(this.defs);
    const state = encoder.learn(events);
    const cols = encoder.columns.length;
    const data = new Float64Array(events.length * cols);
    events.forEach((e, i) => encoder.encode(e, data.subarray(i * cols, (i + 1) * cols)));
    const version = km.version + 1;
    const { file, model } = trainModel({
      name: this.model.name,
      version,
      x: { rows: events.length, cols, data },
      columns: encoder.columns,
      defs: null,
      state,
      source: `baseline of ${this.trainMs / 1000}s event time (sample of ${events.length} of ${seen} events)${key === "" ? "" : `, key ${key}`}`,
      from: new Date(from).toISOString(),
      to: new Date(at).toISOString(),
      params: { trees: this.opts.trees, sampleSize: this.opts.sampleSize, seed: fnv1a(`${this.model.name}\u0000${key}\u0000${version}`) },
      now: () => at,
    });
    km.scorer = model;
    km.encoder = encoder;
    km.version = version;
    km.trainedAt = at;
    this.opts.onTrained?.(file, key);
  }

  liveKeys(): number {
    return this.keys.size;
  }

  /** The state as plain data: per key, its trained model (if any) and baseline sample. */
  snapshot(ref: (ev: EngineEvent) => number): unknown {
    return [...this.keys].map(([key, km]) => ({
      key,
      keyValues: km.keyValues,
      baselineStart: km.baselineStart,
      trainedAt: km.trainedAt ?? null,
      version: km.version,
      model: km.scorer?.file ?? null,
      chunks: km.chunks.map((c) => ({ start: c.start, seen: c.seen, events: c.events.map(ref) })),
    }));
  }

  restore(data: unknown, get: (i: number) => EngineEvent): void {
    this.keys.clear();
    for (const k of data as { key: string; keyValues: unknown[]; baselineStart: number; trainedAt: number | null; version: number; model: unknown; chunks: { start: number; seen: number; events: number[] }[] }[]) {
      const file = k.model === null ? undefined : parseModelFile(k.model, `snapshot of ${this.model.name}`);
      this.keys.set(k.key, {
        keyValues: k.keyValues,
        baselineStart: k.baselineStart,
        trainedAt: k.trainedAt ?? undefined,
        version: k.version,
        scorer: file === undefined ? undefined : ScoringModel.load(file),
        encoder: new FeatureEncoder(this.defs, file?.features.state),
        chunks: k.chunks.map((c) => ({ start: c.start, seen: c.seen, events: c.events.map(get) })),
      });
    }
  }
}

function compare(v: number, op: CompiledAnomaly["op"], t: number): boolean {
  switch (op) {
    case ">":
      return v > t;
    case ">=":
      return v >= t;
    case "<":
      return v < t;
    case "<=":
      return v <= t;
    default:
      return false;
  }
}
