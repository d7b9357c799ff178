import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { getField, type EngineEvent } from "../../engine/index.js";
import { provision, subjectToken, type Topology } from "./topology.js";

export interface PublishOptions {
  /** A fixed subject; by default `<events prefix>.<service.name>.<event.category>`. */
  readonly subject?: string;
  /** Events per second (0: as fast as the server acknowledges). */
  readonly rate: number;
  /** Publishes in flight at once (they stay in order on one connection). */
  readonly inflight: number;
}

/**
 * Publishes events into JetStream, each with its `event.id` as the message id (so publishing
 * a file twice stores it once), in order.
 */
export class EventPublisher {
  private readonly js;
  private pending: Promise<unknown>[] = [];
  private sent = 0;
  private readonly started = Date.now();
  duplicates = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly topology: Topology,
    private readonly opts: PublishOptions,
  ) {
    this.js = jetstream(nc);
  }

  async provision(maxAckPending: number): Promise<void> {
    await provision(await jetstreamManager(this.nc), this.topology, maxAckPending);
  }

  subjectOf(ev: EngineEvent): string {
    if (this.opts.subject !== undefined) return this.opts.subject;
    return `${this.topology.eventsSubject}.${subjectToken(getField(ev.fields, "service.name"), "unknown")}.${subjectToken(getField(ev.fields, "event.category"), "other")}`;
  }

  async publish(ev: EngineEvent): Promise<void> {
    if (this.opts.rate > 0) {
      const due = this.started + (this.sent * 1000) / this.opts.rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    this.sent++;
    this.pending.push(
      this.js.publish(this.subjectOf(ev), JSON.stringify(ev.fields), { msgID: ev.id }).then((ack) => {
        if (ack.duplicate) this.duplicates++;
      }),
    );
    if (this.pending.length >= this.opts.inflight) await this.flush();
  }

  async flush(): Promise<number> {
    const p = this.pending;
    this.pending = [];
    await Promise.all(p);
    return this.sent;
  }
}
