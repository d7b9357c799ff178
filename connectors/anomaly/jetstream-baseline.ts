import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { EngineEvent } from "../../engine/index.js";
import { decodeMessage } from "../nats/decode.js";

export interface StreamRangeStats {
  messages: number;
  events: number;
  /** Lines that did not decode (not JSON objects, no usable @timestamp). */
  undecodable: number;
}

/**
 * A training baseline from the events stream: reads it from its first message up to the last
 * one stored when the read starts (an ordered consumer, nothing acknowledged or changed), and
 * keeps the events whose event time is in [fromMs, toMs). Event time, not publish time: a
 * replayed history published today still selects by its own timestamps.
 */
export async function readStreamBaseline(
  nc: NatsConnection,
  stream: string,
  range: { readonly fromMs?: number; readonly toMs?: number },
  onEvent: (ev: EngineEvent) => void,
): Promise<StreamRangeStats> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const last = info.state.last_seq;
  const stats: StreamRangeStats = { messages: 0, events: 0, undecodable: 0 };
  if (info.state.messages === 0) return stats;
  const consumer = await jetstream(nc).consumers.get(stream);
  const from = range.fromMs ?? -Infinity;
  const to = range.toMs ?? Infinity;
  let seq = 0;
  while (seq < last) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      seq = m.seq;
      stats.messages++;
      const d = decodeMessage(m.data, m.subject, m.seq);
      stats.undecodable += d.dead.length;
      for (const ev of d.events) {
        if (ev.ts >= from && ev.ts < to) {
          stats.events++;
          onEvent(ev);
        }
      }
      if (seq >= last) break;
    }
    if (got === 0) break; // nothing more arrives (messages expired while reading)
  }
  return stats;
}
