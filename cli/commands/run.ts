import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino, type Logger } from "pino";
import type { ActionControl } from "../../api/ports.js";
import type { Actor, ResponseActionRecord, Result } from "../../connectors/store/types.js";
import { PipelineMetrics } from "../../connectors/metrics/prometheus.js";
import { runAlertFeed } from "../../connectors/nats/alert-feed.js";
import { EventPublisher } from "../../connectors/nats/publish.js";
import { runJetStream } from "../../connectors/nats/runner.js";
import { DEFAULT_TOPOLOGY, provision, type Topology, topologyForPrefix } from "../../connectors/nats/topology.js";
import { jetstreamManager } from "@nats-io/jetstream";
import type { DecoderFormat } from "../../connectors/parsers/index.js";
import { createResponse, parseResponseConfig, type ResponseRuntime, ruleSourcesFromPack } from "../../connectors/responders/index.js";
import { type BusProducer, EmbeddedBus } from "../../connectors/sources/bus.js";
import { feedFile, followFile } from "../../connectors/sources/file-feed.js";
import type { LogReadStats } from "../../connectors/sources/log-file.js";
import type { CompiledPack } from "../../dsl/index.js";
import { alertRecord } from "../../engine/alert-record.js";
import { type Alert, Engine, type EngineEvent } from "../../engine/index.js";
import type { AlertSink, DeadLetter, DeadLetterSink } from "../../engine/pipeline.js";
import { alertCollector, runWorker, type WorkerObserver } from "../../engine/worker.js";
import { cfg, type Config, envFromConfig } from "../config.js";
import { loadRulesOrReport } from "../feed.js";
import { readProblem } from "../fs-problem.js";
import type { Io } from "../io.js";
import { collectPackFiles, defaultRulesPath } from "../pack-files.js";
import { openRuntime, type Runtime, SequentialSink } from "../runtime.js";

export interface RunHooks {
  /** Stop after this long (ms); for tests and benchmarks. Default: until SIGTERM/SIGINT. */
  readonly stopAfterMs?: number;
  /** Stop once the source has been idle this long (ms) after having processed something. */
  readonly stopWhenIdleMs?: number;
  /** Stops the job like SIGTERM does (tests). */
  readonly signal?: AbortSignal;
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

/** Several observers as one. */
function observers(list: readonly WorkerObserver[]): WorkerObserver {
  return {
    batch: (e, d, ms) => list.forEach((o) => o.batch?.(e, d, ms)),
    alerts: (a) => list.forEach((o) => o.alerts?.(a)),
    deadLetters: (x) => list.forEach((o) => o.deadLetters?.(x)),
    checkpoint: (p, ms) => list.forEach((o) => o.checkpoint?.(p, ms)),
    events: (evs) => list.forEach((o) => o.events?.(evs)),
  };
}

/** The engine without the rules an analyst disabled through the API. */
function enabledOnly(pack: CompiledPack, disabled: ReadonlySet<string>): CompiledPack {
  return disabled.size === 0 ? pack : { ...pack, rules: pack.rules.filter((r) => !disabled.has(r.name)) };
}

interface Parts {
  readonly runtime: Runtime;
  readonly response: ResponseRuntime | undefined;
  /** The consequences of an alert, in order: incident store, evidence, actions, SIEM. */
  readonly effects: AlertSink | undefined;
  readonly observer: WorkerObserver;
  readonly actions: ActionControl | undefined;
  readonly metrics: PipelineMetrics;
}

/** Opens the store, InfluxDB, the model store and the response. */
async function openParts(config: Config, pack: CompiledPack, metrics: PipelineMetrics, log: Logger, nats: NatsConnection | undefined, longLived: boolean): Promise<Parts> {
  const files = collectPackFiles([defaultRulesPath(cfg.str(config, "rules"))]);
  const ruleSources = ruleSourcesFromPack(files);
  const runtime = await openRuntime({ config, pack, ruleSources, registry: metrics.registry, log, longLived, ingestRejected: (r) => metrics.ingestRejected(r), ...(nats === undefined ? {} : { nats }) });
  let response: ResponseRuntime | undefined;
  if (runtime.store !== undefined) {
    const parsed = parseResponseConfig(cfg.section(config, "response"), envFromConfig(config));
    if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
    const store = runtime.store;
    const r = await createResponse(parsed.value, {
      store,
      logger: log,
      ruleSource: (rule) => ruleSources.get(rule),
      resolveIncident: async (alertId) => (await store.alertIncident(alertId)) ?? null,
      ...(nats === undefined ? {} : { nats }),
    });
    if (!r.ok) {
      await runtime.close();
      throw new Error(r.error.message);
    }
    response = r.value;
    response.start();
  }
  const effects = [...runtime.effects, ...(response?.sinks ?? [])];
  const evidence = response?.evidence;
  const observer = observers([
    metrics,
    runtime.observer,
    ...(evidence === undefined ? [] : [{ events: (evs: readonly EngineEvent[]) => evs.forEach((e) => evidence.observe(e)) }]),
  ]);
  const dispatcher = response?.dispatcher;
  const ledger = runtime.store?.actions;
  const control = (run: (id: string, actor: Actor) => ReturnType<NonNullable<typeof dispatcher>["approve"]>) => async (id: string, actor: Actor): Promise<Result<ResponseActionRecord>> => {
    const r = await run(id, actor);
    if (!r.ok) return { ok: false, error: { code: r.code, message: r.message } };
    const rec = await ledger?.get(id);
    return rec === undefined ? { ok: false, error: { code: "E_NOT_FOUND", message: `no action ${id}` } } : { ok: true, value: rec };
  };
  return {
    runtime,
    response,
    effects: effects.length === 0 ? undefined : new SequentialSink(effects),
    observer,
    actions: dispatcher === undefined ? undefined : { approve: control((id, a) => dispatcher.approve(id, a)), undo: control((id, a) => dispatcher.undo(id, a)) },
    metrics,
  };
}

async function closeParts(p: Parts | undefined): Promise<void> {
  if (p === undefined) return;
  await p.response?.close();
  await p.runtime.close();
}

/**
 * `vigil run`, the main job. With `nats.url`: consume the events stream from JetStream,
 * effectively-once; the incident store and the response follow the alerts stream. Without:
 * the embedded default, the same worker loop over an in-process bus fed by `--input` files
 * (followed with `--follow`), stdin and the HTTP ingest endpoint. SIGTERM/SIGINT drain: the
 * batch in hand is finished, checkpointed and acknowledged within `shutdown_timeout`.
 */
export async function runMain(config: Config, io: Io, hooks: RunHooks = {}): Promise<number> {
  const log = pino({ level: cfg.str(config, "log_level") ?? "info", base: { service: "vigil" } }, { write: (s: string) => io.err(s.trimEnd()) });
  const pack = await loadRulesOrReport(cfg.str(config, "rules"), io, "run", cfg.str(config, "policy"));
  if (pack === undefined) return 1;
  const metrics = new PipelineMetrics();
  const stdout: AlertSink[] = cfg.bool(config, "alerts_stdout") ? [new StdoutAlertSink(io)] : [];

  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  hooks.signal?.addEventListener("abort", stop, { once: true });
  const timer = hooks.stopAfterMs === undefined ? undefined : setTimeout(stop, hooks.stopAfterMs);
  const shutdownMs = cfg.num(config, "shutdown_timeout") ?? 10_000;
  const say = (msg: string, fields: Record<string, unknown> = {}) => log.info(fields, msg);

  const natsUrl = cfg.str(config, "nats.url");
  let nc: NatsConnection | undefined;
  let parts: Parts | undefined;
  const work = async (): Promise<number> => {
    if (natsUrl === undefined) {
      const longLived = cfg.bool(config, "input.follow") || cfg.bool(config, "api.enabled");
      parts = await openParts(config, pack, metrics, log, undefined, longLived);
      return runEmbedded(config, pack, parts, stdout, controller.signal, hooks, io, say);
    }
    nc = await connect({ servers: natsUrl, name: "vigil run", noAsyncTraces: true });
    const prefix = cfg.str(config, "nats.prefix");
    const base: Topology = prefix === undefined ? DEFAULT_TOPOLOGY : topologyForPrefix(prefix);
    const topology: Topology = {
      ...base,
      maxAgeMs: cfg.num(config, "nats.stream_max_age") ?? base.maxAgeMs,
      maxBytes: cfg.num(config, "nats.stream_max_bytes") ?? base.maxBytes,
      duplicateWindowMs: cfg.num(config, "nats.duplicate_window") ?? base.duplicateWindowMs,
    };
    const p = (parts = await openParts(config, pack, metrics, log, nc, true));
    const maxAckPending = cfg.num(config, "nats.max_ack_pending") ?? 100_000;
    // Streams first: the alert follower below starts alongside the worker and needs the alerts stream.
    await provision(await jetstreamManager(nc), topology, maxAckPending);
    let engine: Engine | undefined;
    const running = runJetStream({
      nc,
      topology,
      makeEngine: (onAlert, onAlertUpdate) => {
        const e = (engine = new Engine(pack, { onAlert, onAlertUpdate, anomaly: p.runtime.anomaly }));
        metrics.watchEngine(() => e.stats);
        for (const u of engine.unsupported) io.err(`rule ${u.rule} is not run: ${u.reason}`);
        return engine;
      },
      sinks: stdout,
      batchSize: cfg.num(config, "nats.batch") ?? 500,
      maxAckPending,
      checkpointIntervalMs: cfg.num(config, "nats.checkpoint_interval") ?? 5000,
      limits: { maxMessageBytes: cfg.num(config, "nats.max_message_bytes") ?? 1 << 20, maxEventsPerMessage: cfg.num(config, "nats.max_events_per_message") ?? 10_000 },
      signal: controller.signal,
      idleStopMs: hooks.stopWhenIdleMs,
      observer: p.observer,
      log: say,
    });
    // The incident store and the response follow the alerts stream: durable between them.
    const drain = new AbortController();
    const following =
      p.effects === undefined
        ? Promise.resolve()
        : runAlertFeed({ nc, topology, consumer: `${topology.consumer}_effects`, sinks: [p.effects], batchSize: 200, signal: controller.signal, drain: drain.signal, log: say }).then(() => undefined);
    // Its failure is the job's (awaited below); until then it must not surface as unhandled.
    following.catch(() => undefined);
    const publisher = new EventPublisher(nc, topology, { rate: 0, inflight: 256 });
    await p.runtime.serveApi({
      deliver: async (events) => {
        for (const ev of events) await publisher.publish(ev);
        await publisher.flush();
      },
      applyPack: (next, disabled) => engine?.reload(enabledOnly(next, disabled)),
      ready: () => ({ nats: { ok: nc !== undefined && !nc.isClosed() } }),
      ...(p.actions === undefined ? {} : { actions: p.actions }),
    });
    let stats: Awaited<typeof running>;
    try {
      stats = await running;
    } catch (err) {
      // The worker failed: stop the follower too before reporting (no stray errors after it).
      controller.abort();
      await following.catch(() => undefined);
      throw err;
    }
    drain.abort(); // idle (tests, benchmarks): let the followers catch up, then stop
    await following;
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
      log.error({ shutdown_timeout_ms: shutdownMs }, "shutdown timed out: exiting without finishing; unacknowledged messages will be delivered again");
      io.exit?.(1);
      return 1;
    }
    return r;
  } catch (err) {
    log.error({ err: (err as Error).message }, "the main job failed");
    return 1;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (drainTimer !== undefined) clearTimeout(drainTimer);
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await closeParts(parts).catch(() => undefined);
    const conn: NatsConnection | undefined = nc;
    if (conn !== undefined && !conn.isClosed()) await conn.drain().catch(() => undefined);
  }
}

async function runEmbedded(
  config: Config,
  pack: CompiledPack,
  parts: Parts,
  stdout: AlertSink[],
  signal: AbortSignal,
  hooks: RunHooks,
  io: Io,
  say: (msg: string, fields?: Record<string, unknown>) => void,
): Promise<number> {
  const collector = alertCollector();
  const engine = new Engine(pack, { onAlert: collector.onAlert, onAlertUpdate: collector.onAlertUpdate, anomaly: parts.runtime.anomaly });
  parts.metrics.watchEngine(() => engine.stats);
  for (const u of engine.unsupported) io.err(`rule ${u.rule} is not run: ${u.reason}`);
  const bus = new EmbeddedBus({ maxQueuedEvents: cfg.num(config, "input.max_queued_events") ?? 50_000, waitMs: 250 });
  const follow = cfg.bool(config, "input.follow");

  // HTTP ingest, when the API is served: a producer of its own that never ends before the job.
  let httpSeq = 2 ** 40;
  const http = { requests: 0, events: 0 };
  const httpProducer = bus.producer();
  const app = await parts.runtime.serveApi({
    deliver: async (events) => {
      http.requests++;
      http.events += events.length;
      // Events keep their ids; `seq` orders them after anything read from files.
      await httpProducer.publish(events.map((e) => ({ ...e, seq: httpSeq++ })), []);
    },
    applyPack: (next, disabled) => engine.reload(enabledOnly(next, disabled)),
    ready: () => ({ bus: { ok: !bus.ended } }),
    ...(parts.actions === undefined ? {} : { actions: parts.actions }),
  });
  if (app === undefined) httpProducer.end();

  const files = cfg.list(config, "input.files");
  const inputs = files.length > 0 ? files : app === undefined ? ["-"] : [];
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
          io.err(`cannot read ${file}: ${readProblem(err)}`);
          readError = true;
          return;
        }
      }
    } finally {
      producer.end();
    }
  })();
  signal.addEventListener("abort", () => httpProducer.end(), { once: true });
  const result = await runWorker({
    engine,
    source: bus,
    sinks: parts.effects === undefined ? stdout : [...stdout, parts.effects],
    deadLetters: new StderrDeadLetterSink(io),
    checkpointIntervalMs: 1000,
    maxPendingUnits: 1,
    signal,
    idleStopMs: hooks.stopWhenIdleMs,
    observer: parts.observer,
    takeAlerts: collector.take,
    log: () => undefined,
  });
  await bus.close();
  await feeding;
  say("inputs ended", {
    lines: stats.lines,
    events: stats.events,
    undecodable: Object.fromEntries(stats.failures),
    ...(app === undefined ? {} : { http_requests: http.requests, http_events: http.events }),
    events_evaluated: result.events,
    late: engine.stats.late,
    refused: engine.stats.refused,
    dead_letters: result.deadLetters,
    alerts: result.alerts,
  });
  // Input files were read and not one line became an event: most likely the wrong format (as replay says).
  const undecodable = [...stats.failures].reduce((n, [reason, k]) => (reason === "empty_line" ? n : n + k), 0);
  if (!readError && files.length > 0 && stats.events === 0 && undecodable > 0) {
    io.err(`vigil run: none of the ${undecodable} non-blank lines of the input files could be decoded as ${opts.format}: check --format (auto, json, sshd, syslog, access, api)`);
    return 1;
  }
  return readError ? 1 : 0;
}
