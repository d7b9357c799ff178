import { AckPolicy, type Consumer, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { EngineEvent } from "../../engine/index.js";
import type { DeadLetter } from "../../engine/pipeline.js";
import type { EventSource, SourceBatch } from "../../engine/worker.js";
import { decodeMessage, type DecodeLimits, DEFAULT_DECODE_LIMITS } from "./decode.js";
import type { Topology } from "./topology.js";

export interface JetStreamSourceOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly topology: Topology;
  /** Messages per fetch. */
  readonly batchSize: number;
  /** Most unacknowledged messages in flight (the consumer's max_ack_pending). */
  readonly maxAckPending: number;
  /** How long one fetch waits for messages (ms). */
  readonly fetchWaitMs?: number;
  readonly limits?: DecodeLimits;
}

const NS = 1_000_000;

/**
 * The events stream's durable pull consumer as an {@link EventSource}. The checkpoint is the
 * truth about position: on start the consumer is recreated to deliver right after it, in
 * stream order, so messages delivered before a crash but not checkpointed come again.
 */
export class JetStreamSource implements EventSource {
  readonly name: string;
  private consumer: Consumer | undefined;
  private position = 0;
  /** Messages counted by the source: every one delivered, decoded or dead-lettered. */
  messages = 0;

  constructor(private readonly o: JetStreamSourceOptions) {
    this.name = `jetstream:${o.topology.eventsStream}`;
  }

  async start(position: number): Promise<void> {
    const t = this.o.topology;
    this.position = position;
    try {
      await this.o.jsm.consumers.delete(t.eventsStream, t.consumer);
    } catch {
      /* not there yet */
    }
    await this.o.jsm.consumers.add(t.eventsStream, {
      durable_name: t.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: 60_000 * NS,
      max_ack_pending: this.o.maxAckPending,
      deliver_policy: position > 0 ? DeliverPolicy.StartSequence : DeliverPolicy.All,
      ...(position > 0 ? { opt_start_seq: position + 1 } : {}),
    });
    this.consumer = await this.o.js.consumers.get(t.eventsStream, t.consumer);
  }

  async next(signal: AbortSignal): Promise<SourceBatch | undefined> {
    if (this.consumer === undefined) throw new Error("JetStreamSource.next before start");
    const events: EngineEvent[] = [];
    const dead: DeadLetter[] = [];
    const msgs: JsMsg[] = [];
    const limits = this.o.limits ?? DEFAULT_DECODE_LIMITS;
    const batch = await this.consumer.fetch({ max_messages: this.o.batchSize, expires: this.o.fetchWaitMs ?? 1000 });
    const stopOnAbort = () => batch.stop();
    signal.addEventListener("abort", stopOnAbort, { once: true });
    try {
      for await (const m of batch) {
        if (m.seq <= this.position) {
          // Already in the checkpoint (a redelivery racing the restart): acknowledge only.
          m.ack();
          continue;
        }
        this.messages++;
        const d = decodeMessage(m.data, m.subject, m.seq, limits);
        for (const ev of d.events) events.push(ev);
        for (const x of d.dead) dead.push(x);
        msgs.push(m);
        this.position = m.seq;
      }
    } finally {
      signal.removeEventListener("abort", stopOnAbort);
    }
    return {
      events,
      dead,
      position: this.position,
      ack: () => {
        for (const m of msgs) m.ack();
      },
    };
  }

  async close(): Promise<void> {
    /* the consumer is durable; the connection is the caller's */
  }
}
