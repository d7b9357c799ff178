import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { alertFromRecord } from "../../engine/alert-record.js";
import type { Alert } from "../../engine/index.js";
import type { AlertSink } from "../../engine/pipeline.js";
import type { Topology } from "./topology.js";

export interface AlertFeedOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  /** Durable consumer name on the alerts stream (one per kind of follower: store, responders). */
  readonly consumer: string;
  /** Written in order; a batch is acknowledged once every sink has resolved. */
  readonly sinks: readonly AlertSink[];
  readonly batchSize: number;
  readonly signal: AbortSignal;
  /** Once aborted, the follower returns as soon as it has caught up (a fetch comes back empty). */
  readonly drain?: AbortSignal;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
  /** First retry delay after a sink failed (doubles up to 5 s). */
  readonly retryMs?: number;
}

export interface AlertFeedStats {
  alerts: number;
  updates: number;
  retries: number;
  malformed: number;
}

const NS = 1_000_000;

/**
 * Follows the alerts stream into the incident store and the responders: the stream is the
 * durable log between detection and its consequences. A batch is acknowledged only after
 * every sink has made it durable; while a sink fails (the database is down) the batch is
 * retried with backoff and nothing further is taken — the alerts wait, safe, in JetStream,
 * through restarts and crashes, and the detection pipeline is never held back by it.
 * Every write is idempotent by alert id, so a redelivery changes nothing.
 */
export async function runAlertFeed(o: AlertFeedOptions): Promise<AlertFeedStats> {
  const t = o.topology;
  const jsm = await jetstreamManager(o.nc);
  // Batches are written and acknowledged in order, so the ack floor is the truth about
  // position: the consumer is recreated to deliver right after it, and what a crashed
  // process had taken but not acknowledged comes again now rather than after ack_wait.
  let floor = 0;
  try {
    const info = await jsm.consumers.info(t.alertsStream, o.consumer);
    // A consumer recreated at a start sequence reports an ack floor of 0 until it acknowledges
    // something (NATS 2.9): its start is then the floor, or every other restart would deliver
    // the whole stream again.
    const start = info.config.deliver_policy === DeliverPolicy.StartSequence ? (info.config.opt_start_seq ?? 1) - 1 : 0;
    floor = Math.max(info.ack_floor.stream_seq, start);
    await jsm.consumers.delete(t.alertsStream, o.consumer);
  } catch {
    /* not there yet */
  }
  await jsm.consumers.add(t.alertsStream, {
    durable_name: o.consumer,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 60_000 * NS,
    max_ack_pending: o.batchSize * 4,
    ...(floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.All }),
  });
  const consumer = await jetstream(o.nc).consumers.get(t.alertsStream, o.consumer);
  const stats: AlertFeedStats = { alerts: 0, updates: 0, retries: 0, malformed: 0 };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        o.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      o.signal.addEventListener("abort", done, { once: true });
    });

  while (!o.signal.aborted) {
    const msgs: JsMsg[] = [];
    const batch = await consumer.fetch({ max_messages: o.batchSize, expires: 1000 });
    const stop = () => batch.stop();
    o.signal.addEventListener("abort", stop, { once: true });
    try {
      for await (const m of batch) msgs.push(m);
    } finally {
      o.signal.removeEventListener("abort", stop);
    }
    if (msgs.length === 0) {
      if (o.drain?.aborted === true) break;
      continue;
    }
    const fresh: Alert[] = [];
    const updates: Alert[] = [];
    for (const m of msgs) {
      let a: Alert | undefined;
      try {
        a = alertFromRecord(m.json());
      } catch {
        a = undefined;
      }
      if (a === undefined) {
        stats.malformed++;
        o.log("alerts stream: a message that is not an alert was skipped", { seq: m.seq, subject: m.subject });
        continue;
      }
      if (m.headers?.get("Vigil-Update") === "suppressed") updates.push(a);
      else fresh.push(a);
    }
    let delay = o.retryMs ?? 100;
    for (;;) {
      try {
        for (const s of o.sinks) await s.write(fresh, updates);
        break;
      } catch (err) {
        stats.retries++;
        o.log("alert follower: a sink failed; retrying", { consumer: o.consumer, error: (err as Error).message, retry_in_ms: delay });
        // Keep the messages from being redelivered elsewhere while we wait.
        for (const m of msgs) m.working();
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        if (o.signal.aborted) return stats; // unacknowledged: delivered again after a restart
      }
    }
    for (const m of msgs) m.ack();
    stats.alerts += fresh.length;
    stats.updates += updates.length;
  }
  return stats;
}
