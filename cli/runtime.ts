/**
 * What `vigil run` runs besides the detection loop, built from the configuration: the
 * incident store (PostgreSQL, or PGlite under the data folder), the automated response, the
 * InfluxDB time series, the anomaly model store and the HTTP API. Each part is optional and
 * closes in reverse order of opening.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { pino, type Logger } from "pino";
import type { Registry } from "prom-client";
import { apiConfigFromEnv, createApiServer, createDecodingIngest, createPackRuleAdmin } from "../api/index.js";
import type { ActionControl, ReadinessReport } from "../api/ports.js";
import { FileModelStore } from "../connectors/anomaly/file-store.js";
import { PgModelStore } from "../connectors/anomaly/pg-store.js";
import { createInfluxWriter, type InfluxWriter } from "../connectors/influx/index.js";
import { BufferedAlertSink, openStore, type SqlIncidentStore } from "../connectors/store/index.js";
import { startAuditRetention } from "../connectors/store/retention.js";
import type { CompiledPack } from "../dsl/index.js";
import type { AnomalyOptions } from "../engine/anomaly/scorer.js";
import type { ModelStore } from "../engine/anomaly/store.js";
import { type Alert, type EngineEvent } from "../engine/index.js";
import { fieldReader } from "../engine/event.js";
import type { AlertSink } from "../engine/pipeline.js";
import type { WorkerObserver } from "../engine/worker.js";
import { cfg, type Config, envFromConfig } from "./config.js";
import { collectPackFiles, defaultRulesPath } from "./pack-files.js";

export interface RuntimeDeps {
  readonly config: Config;
  readonly pack: CompiledPack;
  /** Each rule's canonical text, recorded with its version for evidence. */
  readonly ruleSources: ReadonlyMap<string, string>;
  readonly registry: Registry;
  readonly nats?: NatsConnection;
  readonly log: Logger;
  /** Whether the job is long-lived (JetStream, or following files): the API is served then by default. */
  readonly longLived: boolean;
  /** Counts a line or event that HTTP ingest refused, by its reason code (the metrics). */
  readonly ingestRejected?: (reason: string) => void;
}

export interface Runtime {
  readonly store: SqlIncidentStore | undefined;
  readonly influx: InfluxWriter | undefined;
  /**
   * The consequences of an alert, in order: the incident store, then the response. On
   * JetStream they follow the alerts stream; on the embedded default they are the worker's sinks.
   */
  readonly effects: readonly AlertSink[];
  /** Options for the engine's anomaly rules (model store, scores to InfluxDB). */
  readonly anomaly: AnomalyOptions;
  readonly observer: WorkerObserver;
  /** Starts the API once the ingest and the rule admin can be handed their targets. */
  serveApi(o: {
    deliver: (events: readonly EngineEvent[]) => Promise<void>;
    applyPack: (pack: CompiledPack, disabled: ReadonlySet<string>) => void;
    ready: () => ReadinessReport["checks"];
    actions?: ActionControl;
  }): Promise<FastifyInstance | undefined>;
  close(): Promise<void>;
}

const serviceOf = fieldReader("service.name");
const categoryOf = fieldReader("event.category");

/** Writes to a sequence of sinks one after the other (the store before the response). */
export class SequentialSink implements AlertSink {
  readonly name: string;
  constructor(private readonly sinks: readonly AlertSink[]) {
    this.name = sinks.map((s) => s.name).join("+");
  }
  async write(alerts: readonly Alert[], updates: readonly Alert[]): Promise<void> {
    for (const s of this.sinks) await s.write(alerts, updates);
  }
}

/** Errors of a database that is not reachable (yet): down, restarting, failing over, cut off. */
function unreachable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : "";
  return (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "57P01", "57P03"].includes(code) ||
    /Connection terminated|timeout expired/i.test(message)
  );
}

/**
 * `open()`, retried while the database is unreachable, backing off from 250 ms to 5 s, for at
 * most `timeoutMs`; any other error (a wrong password, a bad URL) at once.
 */
async function retryUnreachable<T>(open: () => Promise<T>, timeoutMs: number, onRetry: (err: Error, delayMs: number) => void): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await open();
    } catch (err) {
      if (!unreachable(err) || Date.now() + delay > deadline) throw err;
      onRetry(err as Error, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function openRuntime(d: RuntimeDeps): Promise<Runtime> {
  const c = d.config;
  const closers: (() => Promise<void>)[] = [];
  const env = envFromConfig(c);
  const dataDir = resolve(cfg.str(c, "data_dir") ?? ".vigil");

  // ---- incident store
  let store: SqlIncidentStore | undefined;
  let storeSink: BufferedAlertSink | undefined;
  const databaseUrl = cfg.str(c, "database.url");
  if (cfg.bool(c, "database.enabled")) {
    if (databaseUrl === undefined) mkdirSync(dataDir, { recursive: true });
    const open = () =>
      openStore({
        ...(databaseUrl === undefined ? { dataDir: join(dataDir, "db") } : { databaseUrl }),
        groupWindowMs: cfg.num(c, "database.group_window") ?? 3_600_000,
        onConnectionError: (err) => d.log.warn({ err: err.message }, "database connection error"),
      });
    store = await retryUnreachable(open, cfg.num(c, "database.connect_timeout") ?? 60_000, (err, delayMs) =>
      d.log.warn({ err: err.message, retry_in_ms: delayMs }, "the database is unreachable at start: retrying"),
    );
    const opened = store;
    closers.push(() => opened.close());
    for (const r of d.pack.rules) await store.recordRuleVersion(r.name, r.fingerprint, d.ruleSources.get(r.name) ?? "");
    const expected = cfg.list(c, "coverage.expected_services");
    if (expected.length > 0) await store.setExpectedServices(expected);
    storeSink = new BufferedAlertSink(store, {
      maxBuffered: cfg.num(c, "database.max_buffered_alerts") ?? 10_000,
      // Durable before the batch is acknowledged: nothing is lost to a crash during an outage.
      acknowledge: "durable",
      log: (msg, fields) => d.log.warn(fields, msg),
      onRejected: (a, err) => d.log.error({ alert: a.id, err: err.message }, "the database refused an alert"),
    });
    const sink = storeSink;
    closers.push(() => sink.close());
    const retention = startAuditRetention(store.audit, { days: cfg.num(c, "audit.retention_days") ?? 2555, log: (msg, fields) => d.log.info(fields, msg) });
    // Stop the timer and let a prune in progress finish before the store closes under it.
    closers.push(async () => {
      retention.stop();
      await retention.last;
    });
  }

  // ---- InfluxDB
  let influx: InfluxWriter | undefined;
  const influxUrl = cfg.str(c, "influx.url");
  if (influxUrl !== undefined) {
    const retention = cfg.str(c, "influx.retention");
    influx = createInfluxWriter({
      url: influxUrl,
      database: cfg.str(c, "influx.database") ?? "vigil",
      intervalMs: cfg.num(c, "influx.interval") ?? 10_000,
      ...(retention === undefined ? {} : { retentionPolicy: { name: `vigil_${retention.toLowerCase()}`, duration: retention } }),
      logger: d.log,
    });
    const w = influx;
    closers.push(() => w.close());
  }

  // ---- coverage and time series, fed by the worker
  const seen = new Map<string, number>();
  let lastCoverageFlush = Date.now();
  const observer: WorkerObserver = {
    events: (evs) => {
      if (influx === undefined && store === undefined) return;
      const now = Date.now();
      for (let i = 0; i < evs.length; i++) {
        const f = evs[i]!.fields;
        const svc = serviceOf(f);
        const service = typeof svc === "string" ? svc : "unknown";
        if (influx !== undefined) {
          const cat = categoryOf(f);
          influx.countEvent(service, typeof cat === "string" ? cat : Array.isArray(cat) && typeof cat[0] === "string" ? cat[0] : "other");
        }
        if (store !== undefined && service !== "unknown") seen.set(service, now);
      }
      if (store !== undefined && seen.size > 0 && now - lastCoverageFlush > 10_000) {
        lastCoverageFlush = now;
        const batch = new Map([...seen].map(([s, t]) => [s, new Date(t).toISOString()]));
        seen.clear();
        store.recordServicesSeen(batch).catch((err: unknown) => d.log.warn({ err: (err as Error).message }, "coverage not recorded"));
      }
    },
    alerts: (as) => {
      if (influx !== undefined) for (const a of as) influx.countAlert(a.rule, a.severity);
    },
  };
  if (influx !== undefined && store !== undefined) {
    const w = influx;
    const s = store;
    const every = cfg.num(c, "influx.kpi_interval") ?? 60_000;
    const timer = setInterval(() => {
      const now = new Date();
      s.kpis({ from: new Date(now.getTime() - 86_400_000).toISOString(), to: now.toISOString(), now })
        .then((k) => w.kpis(k))
        .catch((err: unknown) => d.log.warn({ err: (err as Error).message }, "KPIs not computed"));
    }, every);
    timer.unref();
    closers.push(() => Promise.resolve(clearInterval(timer)));
  }

  // ---- anomaly models: stored where the incidents are, scores to InfluxDB
  let models: ModelStore;
  if (databaseUrl !== undefined && cfg.bool(c, "database.enabled")) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    pool.on("error", (err) => d.log.warn({ err: err.message }, "model store connection error"));
    models = new PgModelStore(pool);
    closers.push(() => pool.end());
  } else {
    models = new FileModelStore(join(dataDir, "models"));
  }
  const anomaly: AnomalyOptions = {
    onTrained: (file) => {
      models.save(file).catch((err: unknown) => d.log.warn({ model: file.name, err: (err as Error).message }, "model not stored"));
    },
    ...(influx === undefined ? {} : { onScore: (s) => influx.anomalyScore(s.model, s.key, s.score, s.ts) }),
  };

  const effects: AlertSink[] = storeSink === undefined ? [] : [storeSink];

  return {
    store,
    influx,
    effects,
    anomaly,
    observer,
    async serveApi(o) {
      const enabled = c.get("api.enabled") === undefined ? d.longLived : cfg.bool(c, "api.enabled");
      if (!enabled) return undefined;
      if (store === undefined) {
        d.log.warn({}, "the API needs the incident store (database.enabled): not served");
        return undefined;
      }
      const api = apiConfigFromEnv(env);
      if (!api.ok) throw new Error(api.error.message);
      const rulesPath = defaultRulesPath(cfg.str(c, "rules"));
      const st = store;
      let futureSkewMs = d.pack.settings.futureSkewMs;
      const rules = await createPackRuleAdmin({
        readFiles: () => collectPackFiles([rulesPath]),
        apply: (pack, disabled) => {
          futureSkewMs = pack.settings.futureSkewMs;
          o.applyPack(pack, disabled);
        },
        audit: (actor, action, target, details) => st.audit.append(actor, action, target, details),
      });
      const ingest = createDecodingIngest({
        futureSkewMs: () => futureSkewMs,
        onRejected: (rejected) => {
          for (const r of rejected) d.ingestRejected?.(r.reason.slice(0, Math.max(0, r.reason.indexOf(":"))) || r.reason);
          d.log.warn({ rejected: rejected.length, first: rejected[0] }, "HTTP ingest refused lines or events (listed in the answer)");
        },
        // The decoder's event time and id (an epoch-ms `@timestamp` is a time, as in files);
        // the position is the event's line in its request.
        deliver: (decoded) => o.deliver(decoded.map((e): EngineEvent => ({ id: e.id, ts: e.ts, seq: 0, fields: e.fields, source: "api", position: e.line }))),
      });
      const actions: ActionControl = o.actions ?? {
        approve: () => Promise.resolve({ ok: false, error: { code: "E_INVALID", message: "automated response is not configured" } }),
        undo: () => Promise.resolve({ ok: false, error: { code: "E_INVALID", message: "automated response is not configured" } }),
      };
      const app = await createApiServer({
        store: st,
        ports: {
          ingest,
          rules,
          actions,
          readiness: {
            check: () => {
              const checks = { ...o.ready() };
              if (storeSink !== undefined) {
                const s = storeSink.stats();
                checks.database = s.lastError === null || s.buffered === 0 ? { ok: true } : { ok: false, detail: s.lastError };
              }
              return Promise.resolve({ ready: Object.values(checks).every((x) => x.ok), checks });
            },
          },
        },
        auth: api.value.auth,
        bootstrapApiKey: api.value.bootstrapApiKey,
        rateLimits: api.value.rateLimits,
        corsOrigins: api.value.corsOrigins,
        trustProxy: api.value.trustProxy,
        logger: d.log,
        metricsRegistry: d.registry,
      });
      await app.listen({ port: api.value.port, host: api.value.host });
      d.log.info({ port: api.value.port, host: api.value.host }, "API listening");
      closers.push(() => app.close());
      return app;
    },
    async close() {
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (err) {
          d.log.warn({ err: (err as Error).message }, "error while closing");
        }
      }
    },
  };
}

export function runtimeLogger(level: string): Logger {
  return pino({ level, base: { service: "vigil" } }, pino.destination(2));
}
