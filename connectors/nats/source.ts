import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
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
  private messagesIter: ConsumerMessages | undefined;
  private buffer: JsMsg[] = [];
  private head = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
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
      // Acknowledging a message acknowledges every one before it: one ack per batch, sent once
      // its checkpoint is durable, instead of one per message.
      ack_policy: AckPolicy.All,
      ack_wait: 60_000 * NS,
      max_ack_pending: this.o.maxAckPending,
      deliver_policy: position > 0 ? DeliverPolicy.StartSequence : DeliverPolicy.All,
      ...(position > 0 ? { opt_start_seq: position + 1 } : {}),
    });
    const consumer = await this.o.js.consumers.get(t.eventsStream, t.consumer);
    // Pull ahead while a batch is evaluated; in flight is bounded by max_ack_pending, since
    // nothing is acknowledged before its checkpoint.
    const iter = await consumer.consume({ max_messages: this.o.batchSize * 2 });
    this.messagesIter = iter;
    void (async () => {
      try {
        for await (const m of iter) {
          this.buffer.push(m);
          // Wake the worker at once: what arrives while it works forms the next batch, so a
          // busy stream gets full batches and a quiet one no batching delay.
          this.wake?.();
        }
      } catch (err) {
        this.failure = err as Error;
      } finally {
        this.ended = true;
        this.wake?.();
      }
    })();
  }

  async next(signal: AbortSignal): Promise<SourceBatch | undefined> {
    if (this.messagesIter === undefined) throw new Error("JetStreamSource.next before start");
    if (this.buffer.length === this.head && !this.ended && !signal.aborted) {
      // Nothing there: wait for the first message (or return an empty batch after the wait).
      const waitMs = this.o.fetchWaitMs ?? 1000;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        signal.addEventListener("abort", done, { once: true });
        this.wake = done;
      });
    }
    if (this.failure !== undefined) throw this.failure;
    if (this.ended && this.head === this.buffer.length && !signal.aborted) throw new Error("the JetStream consumer stopped delivering (connection closed?)");
    const end = Math.min(this.buffer.length, this.head + this.o.batchSize);
    const msgs = this.buffer.slice(this.head, end);
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    const events: EngineEvent[] = [];
    const dead: DeadLetter[] = [];
    let last: JsMsg | undefined;
    const limits = this.o.limits ?? DEFAULT_DECODE_LIMITS;
    for (const m of msgs) {
      // At or before the checkpoint (a redelivery racing the restart): covered by the next ack.
      last = m;
      if (m.seq <= this.position) continue;
      this.messages++;
      const d = decodeMessage(m.data, m.subject, m.seq, limits);
      for (const ev of d.events) events.push(ev);
      for (const x of d.dead) dead.push(x);
      this.position = m.seq;
    }
    return {
      events,
      dead,
      position: this.position,
      units: msgs.length,
      // The consumer acknowledges cumulatively (AckPolicy.All): the batch's last message covers it.
      ack: () => last?.ack(),
    };
  }

  async close(): Promise<void> {
    // Stop pulling; what was pulled but not acknowledged is delivered again after a restart.
    await this.messagesIter?.close();
  }
}
