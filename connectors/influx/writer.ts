/**
 * Vigil's time series in InfluxDB 1.x (the `influx` package): event counts per (service,
 * category), alerts per (rule, severity), anomaly scores and KPIs, aggregated in memory per
 * interval and written in batches.
 *
 * Every interval's points form one batch in a bounded queue. A writer loop sends the oldest
 * batches (up to `maxPointsPerWrite` points per request); a failed write is retried with
 * exponential backoff and jitter, the batches staying queued meanwhile. While InfluxDB is down
 * the queue grows up to `maxBufferedBatches`; beyond it the oldest batch is dropped, counted
 * and logged — these are metrics, not evidence, and the pipeline never waits for them. A write
 * InfluxDB refuses as malformed (HTTP 400) is dropped the same way instead of being retried
 * for ever. The database (and a retention policy, when configured) is created when missing.
 */
import { InfluxDB, type IPoint } from "influx";
import { pino } from "pino";
import type { Kpis } from "../store/types.js";
import { Aggregator, type AggregatorOptions } from "./aggregate.js";

/** The part of a pino logger the writer uses. */
export interface InfluxLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RetentionPolicyOptions {
  /** Policy name, e.g. "vigil_30d". */
  readonly name: string;
  /** InfluxQL duration, e.g. "30d", "12w", "INF". */
  readonly duration: string;
  /** Default 1. */
  readonly replication?: number;
}

export interface InfluxWriterOptions extends AggregatorOptions {
  /** InfluxDB 1.x base URL, e.g. http://127.0.0.1:8086 (INFLUX_URL). User and password may be in it. */
  readonly url: string;
  /** Database, created when missing. Default "vigil". */
  readonly database?: string;
  /** Aggregation interval, ms. Default 10,000. */
  readonly intervalMs?: number;
  /** Retention policy the points are written to (created, or altered to match, and made the default). Default: the database's default (autogen). */
  readonly retentionPolicy?: RetentionPolicyOptions;
  /** Most intervals kept while InfluxDB is unreachable; past it the oldest are dropped. Default 360 (an hour at 10 s). */
  readonly maxBufferedBatches?: number;
  /** Most points per write request. Default 5,000. */
  readonly maxPointsPerWrite?: number;
  /** First retry delay, ms (doubling, with jitter, up to `retryMaxMs`). Default 500. */
  readonly retryInitialMs?: number;
  /** Longest retry delay, ms. Default 30,000. */
  readonly retryMaxMs?: number;
  /** HTTP request timeout, ms. Default 10,000. */
  readonly requestTimeoutMs?: number;
  /** Default: pino, JSON lines on stderr. */
  readonly logger?: InfluxLogger;
  /** Clock, epoch ms; default Date.now. */
  readonly now?: () => number;
}

export interface InfluxWriterStats {
  /** Points InfluxDB accepted. */
  readonly writtenPoints: number;
  /** Points dropped: buffer overflow, refused as malformed, anomaly points over the per-interval bound, or unsent at close. */
  readonly droppedPoints: number;
  /** Points waiting to be written. */
  readonly pendingPoints: number;
  /** Intervals waiting to be written. */
  readonly pendingBatches: number;
  /** Failed write attempts since the start. */
  readonly failedWrites: number;
  /** True from a failed write until the next successful one. */
  readonly failing: boolean;
}

export interface InfluxWriter {
  /** Counts one event of `service` and `category` in the current interval (no allocation once the pair is known). */
  countEvent(service: string, category: string): void;
  /** Counts one alert of `rule` with `severity` in the current interval. */
  countAlert(rule: string, severity: string): void;
  /** Records an anomaly score of `entity` under `model` at `ts` (epoch ms; default now), written as given. */
  anomalyScore(model: string, entity: string, score: number, ts?: number): void;
  /** Records a KPI snapshot at `ts` (epoch ms; default now). */
  kpis(k: Kpis, ts?: number): void;
  /**
   * Closes the current interval now and writes everything pending. Resolves true when nothing
   * is left pending, false when InfluxDB could not take it (it stays queued and is retried).
   */
  flush(): Promise<boolean>;
  /** Stops the timers after a last flush; what could not be written is counted as dropped. */
  close(): Promise<void>;
  readonly stats: InfluxWriterStats;
}

interface Batch {
  points: IPoint[];
}

/** Never disables the host: the writer does its own backoff (and leaves no timer behind). */
const NO_BACKOFF = {
  getDelay: () => 0,
  next() {
    return this;
  },
  reset() {
    return this;
  },
};

function statusOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const res = (err as { res?: { statusCode?: unknown } }).res;
  return typeof res?.statusCode === "number" ? res.statusCode : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Parses an InfluxDB URL into the `influx` package's host options. Throws RangeError when it is not http(s). */
function hostConfig(url: string, timeoutMs: number) {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`INFLUX_URL "${url}" is not a URL: expected e.g. http://127.0.0.1:8086`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new RangeError(`INFLUX_URL "${url}" must be http:// or https://`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? (u.protocol === "https:" ? 443 : 8086) : Number(u.port),
    protocol: u.protocol === "https:" ? ("https" as const) : ("http" as const),
    username: u.username === "" ? undefined : decodeURIComponent(u.username),
    password: u.password === "" ? undefined : decodeURIComponent(u.password),
    pool: { maxRetries: 0, requestTimeout: timeoutMs, backoff: NO_BACKOFF },
  };
}

export function createInfluxWriter(opts: InfluxWriterOptions): InfluxWriter {
  const database = opts.database ?? "vigil";
  const intervalMs = opts.intervalMs ?? 10_000;
  const maxBatches = opts.maxBufferedBatches ?? 360;
  const maxPerWrite = opts.maxPointsPerWrite ?? 5_000;
  const retryInitial = opts.retryInitialMs ?? 500;
  const retryMax = opts.retryMaxMs ?? 30_000;
  const log: InfluxLogger = opts.logger ?? pino({ name: "vigil-influx" }, pino.destination(2));
  const now = opts.now ?? Date.now;
  const rp = opts.retentionPolicy;
  if (!(intervalMs >= 10)) throw new RangeError(`influx interval must be at least 10 ms, got ${intervalMs}`);
  if (!(maxBatches >= 1)) throw new RangeError(`influx buffer must hold at least one interval, got ${maxBatches}`);
  const influx = new InfluxDB({ ...hostConfig(opts.url, opts.requestTimeoutMs ?? 10_000), database });
  const where = { url: opts.url.replace(/\/\/[^/@]*@/, "//***@"), database };

  const agg = new Aggregator(opts);
  const queue: Batch[] = [];
  let pendingPoints = 0;
  let writtenPoints = 0;
  let droppedPoints = 0;
  let failedWrites = 0;
  let failing = false;
  let attempt = 0;
  let ready = false;
  let closed = false;
  let lastRoll = now();
  let lastTs = 0;
  let writing: Promise<boolean> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const tick = setInterval(() => {
    roll();
    void drain();
  }, intervalMs);
  tick.unref();

  function roll(): void {
    const t = Math.max(now(), lastTs + 1); // two intervals never share a timestamp
    const points = agg.roll(t, t - lastRoll);
    lastRoll = t;
    lastTs = t;
    if (agg.droppedAnomalies > 0) {
      droppedPoints += agg.droppedAnomalies;
      log.warn({ ...where, dropped: agg.droppedAnomalies }, "influx: too many anomaly points in one interval, dropped the rest");
      agg.droppedAnomalies = 0;
    }
    if (points.length === 0) return;
    queue.push({ points });
    pendingPoints += points.length;
    while (queue.length > maxBatches) {
      const old = queue.shift() as Batch;
      pendingPoints -= old.points.length;
      droppedPoints += old.points.length;
      log.warn({ ...where, dropped: old.points.length, droppedTotal: droppedPoints, buffered: queue.length }, "influx: buffer full, dropped the oldest interval");
    }
  }

  async function ensureDatabase(): Promise<void> {
    if (ready) return;
    await influx.createDatabase(database); // CREATE DATABASE is a no-op when it exists
    if (rp !== undefined) {
      const policy = { database, duration: rp.duration, replication: rp.replication ?? 1, isDefault: true };
      const existing = await influx.showRetentionPolicies(database);
      if (existing.some((p) => p.name === rp.name)) await influx.alterRetentionPolicy(rp.name, policy);
      else await influx.createRetentionPolicy(rp.name, policy);
    }
    ready = true;
  }

  /** Takes up to maxPerWrite points from the oldest batches (whole batches, at least one). */
  function nextWrite(): { points: IPoint[]; batches: number; partial: number } {
    const first = queue[0] as Batch;
    if (first.points.length >= maxPerWrite) return { points: first.points.slice(0, maxPerWrite), batches: 0, partial: maxPerWrite };
    const points = [...first.points];
    let batches = 1;
    while (batches < queue.length && points.length + (queue[batches] as Batch).points.length <= maxPerWrite) {
      for (const p of (queue[batches] as Batch).points) points.push(p);
      batches++;
    }
    return { points, batches, partial: 0 };
  }

  function consume(w: { batches: number; partial: number }): void {
    if (w.batches > 0) {
      for (const b of queue.splice(0, w.batches)) pendingPoints -= b.points.length;
    } else {
      (queue[0] as Batch).points.splice(0, w.partial);
      pendingPoints -= w.partial;
    }
  }

  async function writeAll(): Promise<boolean> {
    while (queue.length > 0) {
      const w = nextWrite();
      try {
        await ensureDatabase();
        await influx.writePoints(w.points, { precision: "ms", retentionPolicy: rp?.name });
      } catch (err) {
        const status = statusOf(err);
        if (status === 400) {
          // Malformed (a field type conflict, say): retrying cannot help. InfluxDB keeps the
          // good points of a partial write and says how many it dropped.
          const msg = messageOf(err);
          const m = /dropped=(\d+)/.exec(msg);
          const dropped = m === null ? w.points.length : Math.min(Number(m[1]), w.points.length);
          consume(w);
          droppedPoints += dropped;
          writtenPoints += w.points.length - dropped;
          log.error({ ...where, err: msg, dropped }, "influx: write refused as malformed, dropped");
          continue;
        }
        if (status === 404) ready = false; // database dropped under us: create it again
        failedWrites++;
        attempt++;
        if (!failing || attempt === 1 || attempt % 10 === 0) {
          log.warn({ ...where, err: messageOf(err), attempt, pendingPoints, pendingBatches: queue.length }, "influx: write failed, will retry");
        }
        failing = true;
        return false;
      }
      consume(w);
      writtenPoints += w.points.length;
      if (failing) log.info({ ...where, attempts: attempt, pendingPoints }, "influx: writes succeed again");
      failing = false;
      attempt = 0;
    }
    return true;
  }

  function scheduleRetry(): void {
    if (closed || retryTimer !== undefined || queue.length === 0) return;
    const base = Math.min(retryMax, retryInitial * 2 ** Math.min(attempt - 1, 20));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void drain();
    }, delay);
    retryTimer.unref();
  }

  /** Runs one write loop at a time; a caller arriving meanwhile waits for it and then tries again. */
  async function drain(): Promise<boolean> {
    while (writing !== undefined) await writing;
    if (queue.length === 0) return true;
    if (retryTimer !== undefined) {
      clearTimeout(retryTimer);
      retryTimer = undefined;
    }
    writing = writeAll();
    try {
      const ok = await writing;
      if (!ok) scheduleRetry();
      return ok;
    } finally {
      writing = undefined;
    }
  }

  return {
    countEvent: (service, category) => agg.countEvent(service, category),
    countAlert: (rule, severity) => agg.countAlert(rule, severity),
    anomalyScore: (model, entity, score, ts) => agg.anomalyScore(model, entity, score, ts ?? now()),
    kpis: (k, ts) => agg.kpis(k, ts ?? now()),
    async flush() {
      roll();
      return drain();
    },
    async close() {
      if (closed) return;
      clearInterval(tick);
      roll();
      await drain();
      closed = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      if (pendingPoints > 0) {
        droppedPoints += pendingPoints;
        log.warn({ ...where, dropped: pendingPoints }, "influx: closed with points unwritten, dropped");
        queue.length = 0;
        pendingPoints = 0;
      }
    },
    get stats(): InfluxWriterStats {
      return { writtenPoints, droppedPoints, pendingPoints, pendingBatches: queue.length, failedWrites, failing };
    },
  };
}

/** The writer's settings from the environment: INFLUX_URL (required to enable it), INFLUX_DATABASE, INFLUX_INTERVAL_MS, INFLUX_RETENTION (e.g. "30d"). */
export function influxOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<InfluxWriterOptions, "logger"> | undefined {
  const url = env.INFLUX_URL;
  if (url === undefined || url === "") return undefined;
  const interval = env.INFLUX_INTERVAL_MS === undefined ? undefined : Number(env.INFLUX_INTERVAL_MS);
  if (interval !== undefined && !(Number.isInteger(interval) && interval >= 10)) {
    throw new RangeError(`INFLUX_INTERVAL_MS must be an integer of at least 10, got "${env.INFLUX_INTERVAL_MS}"`);
  }
  const retention = env.INFLUX_RETENTION;
  if (retention !== undefined && retention !== "" && !/^(?:INF|(?:\d+(?:ns|u|µ|ms|s|m|h|d|w))+)$/.test(retention)) {
    throw new RangeError(`INFLUX_RETENTION must be an InfluxQL duration such as 30d or 12w (or INF), got "${retention}"`);
  }
  return {
    url,
    database: env.INFLUX_DATABASE === undefined || env.INFLUX_DATABASE === "" ? undefined : env.INFLUX_DATABASE,
    intervalMs: interval,
    retentionPolicy: retention === undefined || retention === "" ? undefined : { name: `vigil_${retention.toLowerCase()}`, duration: retention },
  };
}
