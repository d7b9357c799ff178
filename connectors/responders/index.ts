/**
 * Automated response: what `vigil run` wires in. `createResponse(config, deps)` builds the
 * responders the configuration and environment enable, the dispatcher over the store's
 * action ledger and audit log, the SIEM forwarders and the evidence recorder.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { pino, type Logger } from "pino";
import type { AlertSink } from "../../engine/pipeline.js";
import type { Responder } from "../../engine/response.js";
import type { IncidentStore } from "../store/types.js";
import type { ResponseConfig } from "./config.js";
import { ActionDispatcher } from "./dispatcher.js";
import { EvidenceRecorder } from "./evidence.js";
import { Allowlist, RateCap } from "./guards.js";
import { IdpWebhookResponder } from "./idp.js";
import { NatsCommandResponder, commandTopologyForPrefix, provisionCommandStream } from "./nats.js";
import { NftablesResponder } from "./nftables.js";
import { NotifyResponder } from "./notify.js";
import { RedisResponder } from "./redis.js";
import { SiemForwarder } from "./siem.js";

export { ActionDispatcher, type DispatcherOptions, type ModeConfig } from "./dispatcher.js";
export {
  DEFAULT_RESPONSE_CONFIG,
  parseResponseConfig,
  type ConfigError,
  type ResponseConfig,
} from "./config.js";
export { EvidenceRecorder, ruleSourcesFromPack } from "./evidence.js";
export { Allowlist, RateCap, LOOPBACK_CIDRS } from "./guards.js";
export { IdpWebhookResponder } from "./idp.js";
export {
  NatsCommandResponder,
  DEFAULT_COMMAND_TOPOLOGY,
  commandTopologyForPrefix,
  provisionCommandStream,
} from "./nats.js";
export { NftablesResponder, nftBlockScript, nftSetupScript, nftUnblockScript } from "./nftables.js";
export { NotifyResponder } from "./notify.js";
export { RedisResponder, DEFAULT_REDIS_PREFIX } from "./redis.js";
export { SiemForwarder, elasticBulkBody, splunkHecBody } from "./siem.js";

export interface ResponseDeps {
  readonly store: Pick<IncidentStore, "actions" | "audit" | "attachEvents" | "recordRuleVersion">;
  /** Vigil's NATS connection, when it has one: enables the command responder. */
  readonly nats?: NatsConnection;
  /** An existing Redis client (else one is opened from the configuration's URL). */
  readonly redis?: Redis;
  readonly logger?: Logger;
  /** Wall clock (tests). */
  readonly now?: () => number;
  /** The incident an alert joined. */
  readonly resolveIncident?: (alertId: string) => Promise<string | null>;
  /** Rule source text by name, for evidence (see `ruleSourcesFromPack`). */
  readonly ruleSource?: (rule: string) => string | undefined;
}

export interface ResponseRuntime {
  readonly dispatcher: ActionDispatcher;
  /** Sinks to add after the incident store: evidence, the dispatcher, then SIEM forwarders. */
  readonly sinks: readonly AlertSink[];
  readonly evidence: EvidenceRecorder;
  readonly responders: readonly Responder[];
  readonly siem: readonly SiemForwarder[];
  /** Starts the reversal/resume poll. */
  start(): void;
  /** Stops polling, waits for running actions, flushes the SIEM buffers, closes what it opened. */
  close(): Promise<void>;
}

export type CreateResponseResult =
  { ok: true; value: ResponseRuntime } | { ok: false; error: { code: "E_CONFIG"; message: string } };

export async function createResponse(cfg: ResponseConfig, deps: ResponseDeps): Promise<CreateResponseResult> {
  const log = deps.logger ?? pino({ level: "silent" });
  const allow = Allowlist.create(cfg.allowlist);
  if (!allow.ok) return { ok: false, error: allow.error };
  const responders: Responder[] = [];
  let ownRedis: Redis | undefined;
  if (cfg.redis.enabled && (deps.redis !== undefined || cfg.redis.url !== undefined)) {
    let redis = deps.redis;
    if (redis === undefined) {
      redis = ownRedis = new Redis(cfg.redis.url!, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 5_000,
      });
      redis.on("error", (err: Error) => log.warn({ err: err.message }, "redis"));
      await redis
        .connect()
        .catch((err: unknown) =>
          log.error({ err: (err as Error).message }, "redis not reachable: Redis actions fail until it is"),
        );
    }
    responders.push(new RedisResponder(redis, { prefix: cfg.redis.prefix }));
  }
  if (cfg.nats.enabled && deps.nats !== undefined) {
    const topo =
      cfg.nats.stream === undefined
        ? commandTopologyForPrefix(cfg.nats.prefix)
        : { subjectPrefix: cfg.nats.prefix, stream: cfg.nats.stream };
    await provisionCommandStream(await jetstreamManager(deps.nats), topo);
    responders.push(new NatsCommandResponder(jetstream(deps.nats), topo));
  }
  if (cfg.nftables.enabled)
    responders.push(
      new NftablesResponder({
        table: cfg.nftables.table,
        ...(cfg.nftables.netns === undefined ? {} : { netns: cfg.nftables.netns }),
      }),
    );
  if (cfg.idp !== undefined)
    responders.push(
      new IdpWebhookResponder({
        url: cfg.idp.url,
        ...(cfg.idp.token === undefined ? {} : { token: cfg.idp.token }),
      }),
    );
  if (Object.keys(cfg.channels).length > 0)
    responders.push(new NotifyResponder({ channels: cfg.channels, escalation: cfg.escalation }));

  const dispatcher = new ActionDispatcher({
    ledger: deps.store.actions,
    audit: deps.store.audit,
    responders,
    allowlist: allow.value,
    rateCap: new RateCap(cfg.rate_per_minute, cfg.rate_per_minute.default),
    breakGlass: cfg.break_glass,
    modes: { default: cfg.mode, rules: cfg.modes.rules, actions: cfg.modes.actions },
    retry: {
      attempts: cfg.retry.attempts,
      baseMs: cfg.retry.base_ms,
      maxMs: cfg.retry.max_ms,
      timeoutMs: cfg.retry.timeout_ms,
    },
    breaker: { failures: cfg.breaker.failures, cooldownMs: cfg.breaker.cooldown_ms },
    concurrency: cfg.concurrency,
    pollMs: cfg.poll_ms,
    logger: log,
    ...(deps.now === undefined ? {} : { now: deps.now }),
    ...(deps.resolveIncident === undefined ? {} : { resolveIncident: deps.resolveIncident }),
  });
  const evidence = new EvidenceRecorder(deps.store, {
    onError: (msg, fields) => log.error(fields, msg),
    ...(deps.ruleSource === undefined ? {} : { ruleSource: deps.ruleSource }),
  });
  const siem = cfg.siem.map(
    (target) => new SiemForwarder({ target, logger: log, retry: { attempts: cfg.retry.attempts } }),
  );
  log.info(
    {
      responders: responders.map((r) => r.kind),
      break_glass: cfg.break_glass,
      mode: cfg.mode,
      siem: siem.map((s) => s.name),
    },
    "response ready",
  );
  return {
    ok: true,
    value: {
      dispatcher,
      sinks: [evidence, dispatcher.asSink(), ...siem],
      evidence,
      responders,
      siem,
      start: () => dispatcher.start(),
      async close() {
        await dispatcher.close();
        await evidence.close();
        for (const s of siem) await s.close();
        if (ownRedis !== undefined) await ownRedis.quit().catch(() => ownRedis?.disconnect());
      },
    },
  };
}
