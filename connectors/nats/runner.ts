import { type JsMsg, AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Alert, Engine } from "../../engine/index.js";
import type { AlertSink, DeadLetter } from "../../engine/pipeline.js";
import { decodeMessage, type DecodeLimits, DEFAULT_DECODE_LIMITS } from "./decode.js";
import { KvCheckpointStore } from "./kv-checkpoint.js";
import { JetStreamAlertSink, JetStreamDeadLetterSink } from "./sinks.js";
import { provision, type Topology } from "./topology.js";

export interface RunnerStats {
  messages: number;
  events: number;
  deadLetters: number;
  alerts: number;
  checkpoints: number;
  /** Last stream sequence whose effects are checkpointed. */
  position: number;
}

export interface RunnerOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  /** Builds the engine with the runner's alert callbacks (the runner restores its state). */
  readonly makeEngine: (onAlert: (a: Alert) => void, onAlertUpdate: (a: Alert) => void) => Engine;
  /** Sinks besides JetStream (stdout, the incident store). */
  readonly sinks?: readonly AlertSink[];
  /** Messages per fetch. */
  readonly batchSize: number;
  /** Most unacknowledged messages in flight (the consumer's max_ack_pending). */
  readonly maxAckPending: number;
  /** How often state is checkpointed and messages acknowledged. */
  readonly checkpointIntervalMs: number;
  readonly limits?: DecodeLimits;
  readonly signal: AbortSignal;
  /** Stop once no message came for this long (tests, benchmarks). */
  readonly idleStopMs?: number;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
}

const encoder = new TextEncoder();

/**
 * The main job on JetStream. Effectively-once: each batch's alerts and dead letters are
 * published (de-duplicated by id) before the engine state is checkpointed with the stream
 * position it reflects; messages are acknowledged only after the checkpoint. On start the
 * checkpoint is restored and the consumer restarts right after its position, in stream order,
 * so a crash at any point replays exactly the unfinished messages and, with deterministic
 * ids, duplicates nothing.
 */
export async function runJetStream(o: RunnerOptions): Promise<RunnerStats> {
  const t = o.topology;
  const jsm = await jetstreamManager(o.nc);
  await provision(jsm, t, o.maxAckPending);
  const js = jetstream(o.nc);
  const kv = await new Kvm(o.nc).create(t.checkpointBucket, { history: 1 });
  const store = new KvCheckpointStore(kv, t.consumer);
  const sinks: AlertSink[] = [new JetStreamAlertSink(js, t.alertsSubject), ...(o.sinks ?? [])];
  const dlq = new JetStreamDeadLetterSink(js, t.deadLetterSubject);

  let alerts: Alert[] = [];
  const updates = new Set<Alert>();
  const engine = o.makeEngine(
    (a) => alerts.push(a),
    (a) => void updates.add(a),
  );
  const cp = await store.load();
  if (cp !== undefined) engine.restore(cp.snapshot);
  const stats: RunnerStats = { messages: 0, events: 0, deadLetters: 0, alerts: 0, checkpoints: 0, position: cp?.position ?? 0 };
  o.log("restored checkpoint", { position: stats.position, found: cp !== undefined });

  // The checkpoint is the truth about position: the consumer restarts right after it, in order.
  try {
    await jsm.consumers.delete(t.eventsStream, t.consumer);
  } catch {
    /* not there yet */
  }
  await jsm.consumers.add(t.eventsStream, {
    durable_name: t.consumer,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 60_000_000_000,
    max_ack_pending: o.maxAckPending,
    deliver_policy: stats.position > 0 ? DeliverPolicy.StartSequence : DeliverPolicy.All,
    ...(stats.position > 0 ? { opt_start_seq: stats.position + 1 } : {}),
  });
  const consumer = await js.consumers.get(t.eventsStream, t.consumer);

  let unacked: JsMsg[] = [];
  let lastSeq = stats.position;
  let lastCheckpoint = Date.now();
  const checkpoint = async () => {
    if (unacked.length === 0) return;
    await store.save({ position: lastSeq, snapshot: engine.snapshot(), savedAt: new Date().toISOString() });
    for (const m of unacked) m.ack();
    unacked = [];
    stats.position = lastSeq;
    stats.checkpoints++;
    lastCheckpoint = Date.now();
  };

  let lastMessageAt = Date.now();
  while (!o.signal.aborted) {
    if (o.idleStopMs !== undefined && Date.now() - lastMessageAt >= o.idleStopMs) break;
    const batch = await consumer.fetch({ max_messages: o.batchSize, expires: 1000 });
    const dead: DeadLetter[] = [];
    let got = 0;
    for await (const m of batch) {
      got++;
      lastMessageAt = Date.now();
      if (m.seq <= stats.position) {
        m.ack();
        continue;
      }
      stats.messages++;
      const d = decodeMessage(m.data, m.subject, m.seq, o.limits ?? DEFAULT_DECODE_LIMITS);
      dead.push(...d.dead);
      for (const ev of d.events) {
        stats.events++;
        const r = engine.process(ev);
        if (!r.accepted) dead.push({ reason: r.reason, message: r.message, origin: m.subject, position: m.seq, data: encoder.encode(JSON.stringify(ev.fields)) });
      }
      unacked.push(m);
      lastSeq = m.seq;
      if (o.signal.aborted) break;
    }
    // Effects first (de-duplicated by id), then the checkpoint, then the acknowledgements.
    if (alerts.length > 0 || updates.size > 0) {
      const fresh = alerts;
      alerts = [];
      const changed = [...updates].filter((a) => !fresh.includes(a));
      updates.clear();
      await Promise.all(sinks.map((s) => s.write(fresh, changed)));
      stats.alerts += fresh.length;
    }
    if (dead.length > 0) {
      await dlq.deadLetter(dead);
      stats.deadLetters += dead.length;
    }
    if (got === 0 || Date.now() - lastCheckpoint >= o.checkpointIntervalMs || unacked.length >= o.maxAckPending / 2) await checkpoint();
  }
  await checkpoint();
  o.log("stopped", { ...stats });
  return stats;
}
