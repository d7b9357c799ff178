import { connect, type NatsConnection } from "@nats-io/transport-node";
import { PipelineMetrics } from "../../connectors/metrics/prometheus.js";
import { runJetStream } from "../../connectors/nats/runner.js";
import { DEFAULT_TOPOLOGY, type Topology, topologyForPrefix } from "../../connectors/nats/topology.js";
import type { DecoderFormat } from "../../connectors/parsers/index.js";
import { type BusProducer, EmbeddedBus } from "../../connectors/sources/bus.js";
import { feedFile, followFile } from "../../connectors/sources/file-feed.js";
import type { LogReadStats } from "../../connectors/sources/log-file.js";
import { alertRecord } from "../../engine/alert-record.js";
import { type Alert, Engine } from "../../engine/index.js";
import type { AlertSink, DeadLetter, DeadLetterSink } from "../../engine/pipeline.js";
import { alertCollector, runWorker, type WorkerStats } from "../../engine/worker.js";
import { cfg, type Config } from "../config.js";
import { loadRulesOrReport } from "../feed.js";
import type { Io } from "../io.js";

export interface RunHooks {
  /** Stop after this long (ms); for tests and benchmarks. Default: until SIGTERM/SIGINT. */
  readonly stopAfterMs?: number;
  /** Stop once the source has been idle this long (ms) after having processed something. */
  readonly stopWhenIdleMs?: number;
  /** Stops the job like SIGTERM does (tests). */
  readonly signal?: AbortSignal;
}

function logger(io: Io) {
  return (msg: string, fields: Record<string, unknown> = {}, level = "info") => io.err(JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields }));
}

/** Alerts as JSON lines on stdout, as `vigil replay` prints them. */
class StdoutAlertSink implements AlertSink {
  readonly name = "stdout";
  constructor(private readonly io: Io) {}
  write(alerts: readonly Alert[], updates: readonly Alert[]): Promise<void> {
    for (const a of alerts) this.io.out(JSON.stringify(alertRecord(a)));
    for (const a of updates) this.io.out(JSON.stringify({ type: "alert_update", id: a.id, suppressed: a.suppressed }));
    return Promise.resolve();
  }
}

/** The embedded default's dead letters: one line each on stderr, with where and why. */
class StderrDeadLetterSink implements DeadLetterSink {
  constructor(private readonly io: Io) {}
  deadLetter(items: readonly DeadLetter[]): Promise<void> {
    for (const d of items) this.io.err(`${d.origin}:${d.position}: ${d.reason}: ${d.message}`);
    return Promise.resolve();
  }
}

/**
 * `vigil run`, the main job. With `nats.url`: consume the events stream from JetStream,
 * effectively-once. Without: the embedded default, the same worker loop over an in-process
 * bus fed by `--input` files (followed with `--follow`) and stdin. SIGTERM/SIGINT drain:
 * the batch in hand is finished, checkpointed and acknowledged within `shutdown_timeout`.
 */
export async function runMain(config: Config, io: Io, hooks: RunHooks = {}): Promise<number> {
  const log = logger(io);
  const pack = loadRulesOrReport(cfg.str(config, "rules"), io, "run", cfg.str(config, "policy"));
  if (pack === undefined) return 1;
  const metrics = new PipelineMetrics();
  const sinks: AlertSink[] = cfg.bool(config, "alerts_stdout") ? [new StdoutAlertSink(io)] : [];

  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  hooks.signal?.addEventListener("abort", stop, { once: true });
  const timer = hooks.stopAfterMs === undefined ? undefined : setTimeout(stop, hooks.stopAfterMs);
  const shutdownMs = cfg.num(config, "shutdown_timeout") ?? 10_000;

  const natsUrl = cfg.str(config, "nats.url");
  let nc: NatsConnection | undefined;
  const work = async (): Promise<number> => {
    if (natsUrl === undefined) return runEmbedded(config, pack, sinks, metrics, controller.signal, hooks, io, log);
    nc = await connect({ servers: natsUrl, name: "vigil run" });
    const prefix = cfg.str(config, "nats.prefix");
    const base: Topology = prefix === undefined ? DEFAULT_TOPOLOGY : topologyForPrefix(prefix);
    const topology: Topology = {
      ...base,
      maxAgeMs: cfg.num(config, "nats.stream_max_age") ?? base.maxAgeMs,
      maxBytes: cfg.num(config, "nats.stream_max_bytes") ?? base.maxBytes,
      duplicateWindowMs: cfg.num(config, "nats.duplicate_window") ?? base.duplicateWindowMs,
    };
    const stats = await runJetStream({
      nc,
      topology,
      makeEngine: (onAlert, onAlertUpdate) => {
        const engine = new Engine(pack, { onAlert, onAlertUpdate });
        for (const u of engine.unsupported) io.err(`rule ${u.rule} is not run: ${u.reason}`);
        return engine;
      },
      sinks,
      batchSize: cfg.num(config, "nats.batch") ?? 500,
      maxAckPending: cfg.num(config, "nats.max_ack_pending") ?? 20_000,
      checkpointIntervalMs: cfg.num(config, "nats.checkpoint_interval") ?? 1000,
      limits: { maxMessageBytes: cfg.num(config, "nats.max_message_bytes") ?? 1 << 20, maxEventsPerMessage: cfg.num(config, "nats.max_events_per_message") ?? 10_000 },
      signal: controller.signal,
      idleStopMs: hooks.stopWhenIdleMs,
      observer: metrics,
      log,
    });
    return stats.ended === "signal" || stats.ended === "idle" ? 0 : 1;
  };

  const running = work();
  // The drain is bounded: once stopping, the job has `shutdown_timeout` to finish.
  let drainTimer: NodeJS.Timeout | undefined;
  const drainExpired = new Promise<"expired">((resolve) => {
    controller.signal.addEventListener("abort", () => {
      drainTimer = setTimeout(() => resolve("expired"), shutdownMs);
    });
  });
  try {
    const r = await Promise.race([running, drainExpired]);
    if (r === "expired") {
      log("shutdown timed out: exiting without finishing; unacknowledged messages will be delivered again", { shutdown_timeout_ms: shutdownMs }, "error");
      io.exit?.(1);
      return 1;
    }
    return r;
  } catch (err) {
    log("the main job failed", { error: (err as Error).message }, "error");
    return 1;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (drainTimer !== undefined) clearTimeout(drainTimer);
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    const conn: NatsConnection | undefined = nc;
    if (conn !== undefined && !conn.isClosed()) await conn.drain().catch(() => undefined);
  }
}

async function runEmbedded(
  config: Config,
  pack: NonNullable<ReturnType<typeof loadRulesOrReport>>,
  sinks: AlertSink[],
  metrics: PipelineMetrics,
  signal: AbortSignal,
  hooks: RunHooks,
  io: Io,
  log: ReturnType<typeof logger>,
): Promise<number> {
  const collector = alertCollector();
  const engine = new Engine(pack, { onAlert: collector.onAlert, onAlertUpdate: collector.onAlertUpdate });
  for (const u of engine.unsupported) io.err(`rule ${u.rule} is not run: ${u.reason}`);
  const bus = new EmbeddedBus({ maxQueuedEvents: cfg.num(config, "input.max_queued_events") ?? 50_000, waitMs: 250 });
  const files = cfg.list(config, "input.files");
  const inputs = files.length > 0 ? files : ["-"];
  const follow = cfg.bool(config, "input.follow");
  const opts = { format: (cfg.str(config, "input.format") ?? "auto") as DecoderFormat, year: cfg.num(config, "input.year"), tz: cfg.str(config, "input.tz") };
  const stats: LogReadStats = { lines: 0, events: 0, failures: new Map() };
  const producer: BusProducer = bus.producer();
  bus.seal();
  let readError = false;
  const feeding = (async () => {
    try {
      let seq = 0;
      for (const file of inputs) {
        try {
          seq = follow && file !== "-" ? await followFile(file, opts, seq, producer, stats, { pollMs: cfg.num(config, "input.poll_interval") ?? 250 }, signal) : await feedFile(file, opts, seq, producer, stats);
        } catch (err) {
          io.err(`cannot read ${file}: ${(err as Error).message}`);
          readError = true;
          return;
        }
      }
    } finally {
      producer.end();
    }
  })();
  const result: WorkerStats = await runWorker({
    engine,
    source: bus,
    sinks,
    deadLetters: new StderrDeadLetterSink(io),
    checkpointIntervalMs: 1000,
    maxPendingBatches: 1,
    signal,
    idleStopMs: hooks.stopWhenIdleMs,
    observer: metrics,
    takeAlerts: collector.take,
    log: () => undefined,
  });
  await bus.close();
  await feeding;
  log("inputs ended", { lines: stats.lines, events: stats.events, undecodable: Object.fromEntries(stats.failures), alerts: result.alerts });
  return readError ? 1 : 0;
}
