import type { EngineEvent } from "../../engine/index.js";
import type { DeadLetter } from "../../engine/pipeline.js";
import type { EventSource, SourceBatch } from "../../engine/worker.js";

export interface BusOptions {
  /** Most events queued before producers wait (back-pressure). */
  readonly maxQueuedEvents: number;
  /** How long `next` waits for events before returning an empty batch (ms). */
  readonly waitMs: number;
}

interface Pending {
  readonly events: readonly EngineEvent[];
  readonly dead: readonly DeadLetter[];
  readonly done: () => void;
}

/** A producer's handle: publish batches in order, then end. */
export interface BusProducer {
  /** Resolves once the batch is queued (waits while the bus is full). */
  publish(events: readonly EngineEvent[], dead: readonly DeadLetter[]): Promise<void>;
  /** Resolves once the batch has been processed and its effects are durable. */
  publishAndWait(events: readonly EngineEvent[], dead: readonly DeadLetter[]): Promise<void>;
  end(): void;
}

/**
 * The embedded default's in-process bus: files, stdin and the HTTP ingest endpoint publish
 * into it, the worker pulls from it like from JetStream. Bounded: a producer waits while
 * `maxQueuedEvents` are queued. The bus ends once it is sealed (no producer will be added)
 * and every producer has ended and everything queued has been taken.
 */
export class EmbeddedBus implements EventSource {
  readonly name = "embedded";
  private readonly queue: Pending[] = [];
  private queued = 0;
  private producers = 0;
  private sealed = false;
  private closed = false;
  private position = 0;
  private wakeConsumer: (() => void) | undefined;
  private readonly waitingProducers: (() => void)[] = [];

  constructor(private readonly o: BusOptions) {}

  producer(): BusProducer {
    if (this.sealed) throw new Error("the bus is sealed: no producer can be added");
    this.producers++;
    let ended = false;
    const publish = async (events: readonly EngineEvent[], dead: readonly DeadLetter[], done: () => void) => {
      while (!this.closed && this.queued > 0 && this.queued + events.length > this.o.maxQueuedEvents) await new Promise<void>((r) => this.waitingProducers.push(r));
      if (this.closed) return; // the job is stopping: the embedded default keeps no state to resume
      this.queue.push({ events, dead, done });
      this.queued += events.length;
      this.wake();
    };
    return {
      publish: (events, dead) => publish(events, dead, noop),
      publishAndWait: (events, dead) => new Promise<void>((resolve, reject) => void publish(events, dead, resolve).catch(reject)),
      end: () => {
        if (ended) return;
        ended = true;
        this.producers--;
        this.wake();
      },
    };
  }

  /** No producer will be added: the bus ends once the current ones have. */
  seal(): void {
    this.sealed = true;
    this.wake();
  }

  get ended(): boolean {
    return this.sealed && this.producers === 0 && this.queue.length === 0;
  }

  start(): Promise<void> {
    return Promise.resolve(); // in memory: nothing to resume
  }

  async next(signal: AbortSignal): Promise<SourceBatch | undefined> {
    if (this.queue.length === 0) {
      if (this.ended) return undefined;
      if (!signal.aborted) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, this.o.waitMs);
          function done() {
            clearTimeout(t);
            signal.removeEventListener("abort", done);
            resolve();
          }
          signal.addEventListener("abort", done, { once: true });
          this.wakeConsumer = done;
        });
        this.wakeConsumer = undefined;
      }
      if (this.queue.length === 0) return this.ended ? undefined : { events: [], dead: [], position: this.position, units: 0, ack: noop };
    }
    // Take everything queued as one batch (up to the bound): fewer, larger effects.
    const taken = this.queue.splice(0, this.queue.length);
    const events: EngineEvent[] = [];
    const dead: DeadLetter[] = [];
    for (const p of taken) {
      for (const e of p.events) events.push(e);
      for (const d of p.dead) dead.push(d);
    }
    this.queued = 0;
    for (const w of this.waitingProducers.splice(0)) w();
    this.position += taken.length;
    return {
      events,
      dead,
      position: this.position,
      units: taken.length,
      ack: () => {
        for (const p of taken) p.done();
      },
    };
  }

  close(): Promise<void> {
    this.sealed = true;
    this.closed = true;
    for (const w of this.waitingProducers.splice(0)) w();
    return Promise.resolve();
  }

  private wake(): void {
    this.wakeConsumer?.();
  }
}

function noop(): void {}
