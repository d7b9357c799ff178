import { headers } from "@nats-io/transport-node";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Alert } from "../../engine/index.js";
import type { AlertSink, DeadLetter, DeadLetterSink } from "../../engine/pipeline.js";
import { alertRecord } from "../../engine/alert-record.js";

/**
 * Alerts into JetStream, `<prefix>.<severity>`, with the alert id as the message id: a
 * redelivered or replayed alert is dropped by the stream's de-duplication. A suppressed-count
 * update is the alert again, with `Vigil-Update: suppressed` and its own id.
 */
export class JetStreamAlertSink implements AlertSink {
  readonly name = "jetstream";
  constructor(
    private readonly js: JetStreamClient,
    private readonly subjectPrefix: string,
  ) {}

  async write(alerts: readonly Alert[], updates: readonly Alert[]): Promise<void> {
    const acks: Promise<unknown>[] = [];
    for (const a of alerts) acks.push(this.js.publish(`${this.subjectPrefix}.${a.severity}`, JSON.stringify(alertRecord(a)), { msgID: a.id }));
    for (const a of updates) {
      const h = headers();
      h.set("Vigil-Update", "suppressed");
      acks.push(this.js.publish(`${this.subjectPrefix}.${a.severity}`, JSON.stringify(alertRecord(a)), { msgID: `${a.id}:suppressed:${a.suppressed}`, headers: h }));
    }
    await Promise.all(acks);
  }
}

/** Undecodable messages into `security.deadletter`, the reason and the original subject in headers. */
export class JetStreamDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly js: JetStreamClient,
    private readonly subject: string,
  ) {}

  async deadLetter(items: readonly DeadLetter[]): Promise<void> {
    await Promise.all(
      items.map((d, i) => {
        const h = headers();
        h.set("Vigil-Reason", d.reason);
        h.set("Vigil-Message", d.message.slice(0, 1000));
        h.set("Vigil-Origin-Subject", d.origin);
        h.set("Vigil-Origin-Position", String(d.position));
        return this.js.publish(this.subject, d.data, { headers: h, msgID: `${d.origin}#${d.position}:${i}:${d.reason}` });
      }),
    );
  }
}
