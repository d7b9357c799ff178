import { AckPolicy, DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType, type StreamConfig } from "@nats-io/jetstream";

/** Names of the streams, subjects and consumer Vigil uses; configurable so tests can isolate. */
export interface Topology {
  /** Events stream and its subject prefix (`<prefix>.<service>.<category>`). */
  readonly eventsStream: string;
  readonly eventsSubject: string;
  readonly alertsStream: string;
  /** Alerts go to `<prefix>.<severity>`. */
  readonly alertsSubject: string;
  readonly deadLetterStream: string;
  readonly deadLetterSubject: string;
  readonly consumer: string;
  /** KV bucket for checkpoints. */
  readonly checkpointBucket: string;
  /** Retention of the events stream (ms; 0 = unlimited) and its de-duplication window (ms). */
  readonly maxAgeMs: number;
  readonly duplicateWindowMs: number;
  readonly maxBytes: number;
}

export const DEFAULT_TOPOLOGY: Topology = {
  eventsStream: "SECURITY_EVENTS",
  eventsSubject: "security.events",
  alertsStream: "SECURITY_ALERTS",
  alertsSubject: "security.alerts",
  deadLetterStream: "SECURITY_DEADLETTER",
  deadLetterSubject: "security.deadletter",
  consumer: "vigil",
  checkpointBucket: "vigil_checkpoints",
  maxAgeMs: 7 * 86_400_000,
  duplicateWindowMs: 10 * 60_000,
  maxBytes: -1,
};

/** Every stream, subject and bucket under a prefix (`<prefix>.events.>`, `<PREFIX>_EVENTS`, …). */
export function topologyForPrefix(prefix: string): Topology {
  const up = prefix.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  return {
    ...DEFAULT_TOPOLOGY,
    eventsStream: `${up}_EVENTS`,
    eventsSubject: `${prefix}.events`,
    alertsStream: `${up}_ALERTS`,
    alertsSubject: `${prefix}.alerts`,
    deadLetterStream: `${up}_DEADLETTER`,
    deadLetterSubject: `${prefix}.deadletter`,
    checkpointBucket: `${prefix.replace(/[^A-Za-z0-9_-]/g, "_")}_checkpoints`,
  };
}

const ns = (ms: number) => ms * 1_000_000;

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string; subjects: string[] }): Promise<void> {
  try {
    const info = await jsm.streams.info(cfg.name);
    const same =
      JSON.stringify(info.config.subjects) === JSON.stringify(cfg.subjects) &&
      info.config.max_age === cfg.max_age &&
      info.config.duplicate_window === cfg.duplicate_window &&
      (cfg.max_bytes === undefined || info.config.max_bytes === cfg.max_bytes);
    if (!same) await jsm.streams.update(cfg.name, { ...info.config, ...cfg });
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add(cfg);
  }
}

/**
 * Creates (or brings up to date) the streams and the durable pull consumer: idempotent, and
 * only features of NATS 2.9 (no multi-filter consumers, no subject transforms).
 */
export async function provision(jsm: JetStreamManager, t: Topology, maxAckPending: number): Promise<void> {
  await ensureStream(jsm, {
    name: t.eventsStream,
    subjects: [`${t.eventsSubject}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: ns(t.maxAgeMs),
    max_bytes: t.maxBytes,
    duplicate_window: ns(t.duplicateWindowMs),
    discard: DiscardPolicy.Old,
  });
  await ensureStream(jsm, { name: t.alertsStream, subjects: [`${t.alertsSubject}.>`], storage: StorageType.File, max_age: 0, duplicate_window: ns(t.duplicateWindowMs) });
  await ensureStream(jsm, { name: t.deadLetterStream, subjects: [t.deadLetterSubject], storage: StorageType.File, max_age: 0, duplicate_window: ns(t.duplicateWindowMs) });
  try {
    await jsm.consumers.info(t.eventsStream, t.consumer);
  } catch (err) {
    if (!/consumer not found/i.test((err as Error).message)) throw err;
    await jsm.consumers.add(t.eventsStream, {
      durable_name: t.consumer,
      ack_policy: AckPolicy.All,
      ack_wait: ns(60_000),
      max_ack_pending: maxAckPending,
      max_deliver: -1,
    });
  }
}

/** A subject token from a value: NATS tokens may not hold dots, spaces or wildcards. */
export function subjectToken(v: unknown, fallback: string): string {
  const s = typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : "";
  const t = s.replace(/[.\s*>]+/g, "_").slice(0, 64);
  return t === "" ? fallback : t;
}
