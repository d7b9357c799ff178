import { performance } from "node:perf_hooks";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { headers } from "@nats-io/transport-node";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Alert } from "../../engine/index.js";
import type { AlertSink, DeadLetter, DeadLetterSink } from "../../engine/pipeline.js";
import { alertRecord } from "../../engine/alert-record.js";

/**
 * Alerts into JetStream, `<prefix>.<severity>`, with the alert id as the message id: a
 * redelivered or replayed alert is dropped by the stream's de-duplication. A suppressed-count
 * update is the alert again, with `Vigil-Update: suppressed` and its own id.
 *
 * New alerts are published at once. Count updates come in thousands at a checkpoint (each
 * alert's latest count): they are published in slices of `sliceMs`, giving the event loop a
 * turn between slices, so that the batches evaluated meanwhile (and their alerts) are not held
 * up. An update carries the count at the time it is published, which may be past the one it
 * was taken with: a count the engine reaches again after a restart, published under the same
 * message id.
 */
export class JetStreamAlertSink implements AlertSink {
  readonly name = "jetstream";
  constructor(
    private readonly js: JetStreamClient,
    private readonly subjectPrefix: string,
    private readonly sliceMs = 4,
  ) {}

  async write(alerts: readonly Alert[], updates: readonly Alert[]): Promise<void> {
    const acks: Promise<unknown>[] = [];
    for (const a of alerts) acks.push(this.js.publish(`${this.subjectPrefix}.${a.severity}`, JSON.stringify(alertRecord(a)), { msgID: a.id }));
    let sliceStart = performance.now();
    for (let i = 0; i < updates.length; i++) {
      if ((i & 31) === 31 && performance.now() - sliceStart >= this.sliceMs) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
      const a = updates[i]!;
      const h = headers();
      h.set("Vigil-Update", "suppressed");
      const ack = this.js.publish(`${this.subjectPrefix}.${a.severity}`, JSON.stringify(alertRecord(a)), { msgID: `${a.id}:suppressed:${a.suppressed}`, headers: h });
      // A publish that fails while a later slice waits is raised by Promise.all below, not as unhandled.
      ack.catch(() => undefined);
      acks.push(ack);
    }
    await Promise.all(acks);
  }
}

/** Bytes kept free of a dead letter's payload for its headers (reason, message, origin, id). */
const HEADER_ROOM = 8192;

/**
 * Undecodable messages into `security.deadletter`, the reason and the original subject in
 * headers. A message too large to go again with those headers within the server's
 * `max_payload` (one near the limit that failed to decode) is cut to fit, with
 * `Vigil-Truncated: <original bytes>`: the original stays in the events stream at
 * `Vigil-Origin-Position`. (Refusing it would stop the worker on that message at every start.)
 */
export class JetStreamDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly js: JetStreamClient,
    private readonly subject: string,
    /** The server's `max_payload` (the connection's server info). */
    private readonly maxPayload = 1 << 20,
  ) {}

  async deadLetter(items: readonly DeadLetter[]): Promise<void> {
    const room = Math.max(0, this.maxPayload - HEADER_ROOM);
    await Promise.all(
      items.map((d, i) => {
        const h = headers();
        h.set("Vigil-Reason", d.reason);
        h.set("Vigil-Message", d.message.slice(0, 1000));
        h.set("Vigil-Origin-Subject", d.origin);
        h.set("Vigil-Origin-Position", String(d.position));
        let data = d.data;
        if (data.length > room) {
          h.set("Vigil-Truncated", String(data.length));
          data = data.subarray(0, room);
        }
        return this.js.publish(this.subject, data, { headers: h, msgID: `${d.origin}#${d.position}:${i}:${d.reason}` });
      }),
    );
  }
}
