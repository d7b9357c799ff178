import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Alert, Engine } from "../../engine/index.js";
import type { AlertSink } from "../../engine/pipeline.js";
import { alertCollector, runWorker, type WorkerObserver, type WorkerStats } from "../../engine/worker.js";
import type { DecodeLimits } from "./decode.js";
import { KvCheckpointStore } from "./kv-checkpoint.js";
import { JetStreamAlertSink, JetStreamDeadLetterSink } from "./sinks.js";
import { JetStreamSource } from "./source.js";
import { provision, type Topology } from "./topology.js";

export interface RunnerStats extends WorkerStats {
  /** Messages taken from the stream (each decoded or dead-lettered). */
  messages: number;
}

export interface RunnerOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  /** Builds the engine with the runner's alert callbacks (the worker restores its state). */
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
  readonly observer?: WorkerObserver;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * The main job on JetStream: provisions the streams, restores the checkpoint from NATS KV
 * and runs the worker loop over the events stream (see engine/worker.ts for the ordering
 * that makes the outputs effectively-once).
 */
export async function runJetStream(o: RunnerOptions): Promise<RunnerStats> {
  const t = o.topology;
  const jsm = await jetstreamManager(o.nc);
  await provision(jsm, t, o.maxAckPending);
  const js = jetstream(o.nc);
  const kv = await new Kvm(o.nc).create(t.checkpointBucket, { history: 1 });
  const collector = alertCollector();
  const engine = o.makeEngine(collector.onAlert, collector.onAlertUpdate);
  const source = new JetStreamSource({ js, jsm, topology: t, batchSize: o.batchSize, maxAckPending: o.maxAckPending, limits: o.limits });
  const stats = await runWorker({
    engine,
    source,
    sinks: [new JetStreamAlertSink(js, t.alertsSubject), ...(o.sinks ?? [])],
    deadLetters: new JetStreamDeadLetterSink(js, t.deadLetterSubject, o.nc.info?.max_payload),
    checkpoints: new KvCheckpointStore(kv, t.consumer),
    checkpointIntervalMs: o.checkpointIntervalMs,
    // Acknowledge well before the consumer's max_ack_pending stalls delivery.
    maxPendingUnits: Math.max(1, Math.floor(o.maxAckPending / 2)),
    // Alert publishes are independent (message ids): let them overlap the next batches.
    effectsInFlight: 8,
    signal: o.signal,
    idleStopMs: o.idleStopMs,
    observer: o.observer,
    takeAlerts: collector.take,
    log: o.log,
  });
  await source.close();
  return { ...stats, messages: source.messages };
}
