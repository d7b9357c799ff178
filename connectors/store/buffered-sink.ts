/**
 * An alert sink in front of the store that survives the database going away: alerts are
 * queued in a bounded buffer and written in order by one writer that retries with
 * exponential backoff until the database is back.
 *
 * `write` resolves as soon as the alerts are queued while the buffer has room
 * (`acknowledge: "buffered"`, the default); once the buffer holds `maxBuffered` alerts,
 * `write` resolves only when its own alerts are durable — the pipeline, which acknowledges
 * messages only after its sinks resolve, stops acknowledging rather than overflowing the
 * buffer. With `acknowledge: "durable"` every `write` waits for the database.
 *
 * An error that is not about the connection (a constraint or data error: SQLSTATE class
 * 22, 23 or 42) is not retried forever: the batch is split and the alert that cannot be
 * written is handed to `onRejected` with the error.
 */
import type { Alert } from "../../engine/index.js";
import type { AlertSink } from "../../engine/pipeline.js";

export interface BufferedSinkOptions {
  /** Alerts held while the database is unreachable before `write` blocks (default 10 000). */
  readonly maxBuffered?: number;
  readonly acknowledge?: "buffered" | "durable";
  /** First retry delay (default 100 ms), doubled up to `maxRetryMs` (default 5 s). */
  readonly initialRetryMs?: number;
  readonly maxRetryMs?: number;
  /** Alerts per database transaction (default 500). */
  readonly batchSize?: number;
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
  /** An alert the database refuses for a reason retrying will not fix. */
  readonly onRejected?: (alert: Alert, error: Error) => void;
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

interface Entry {
  readonly alert: Alert;
  readonly isUpdate: boolean;
  waiter?: Waiter;
}

export interface BufferedSinkStats {
  readonly buffered: number;
  readonly written: number;
  readonly retries: number;
  readonly rejected: number;
  readonly lastError: string | null;
  readonly full: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SQLSTATE classes of errors that a retry will not fix. */
export function isPermanentDbError(e: unknown): boolean {
  const code = typeof e === "object" && e !== null && "code" in e ? e.code : undefined;
  return typeof code === "string" && /^(22|23|42)/.test(code);
}

export class BufferedAlertSink implements AlertSink {
  readonly name: string;
  private readonly queue: Entry[] = [];
  private running: Promise<void> | undefined;
  private idle: (() => void)[] = [];
  private readonly max: number;
  private readonly batchSize: number;
  private written = 0;
  private retries = 0;
  private rejected = 0;
  private lastError: string | null = null;
  private closed = false;

  constructor(
    private readonly inner: AlertSink,
    private readonly o: BufferedSinkOptions = {},
  ) {
    this.name = `buffered:${inner.name}`;
    this.max = Math.max(1, o.maxBuffered ?? 10_000);
    this.batchSize = Math.max(1, o.batchSize ?? 500);
  }

  write(alerts: readonly Alert[], updates: readonly Alert[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the buffered alert sink is closed"));
    if (alerts.length === 0 && updates.length === 0) return Promise.resolve();
    const entries: Entry[] = [...alerts.map((alert) => ({ alert, isUpdate: false })), ...updates.map((alert) => ({ alert, isUpdate: true }))];
    const mustWait = this.o.acknowledge === "durable" || this.queue.length + entries.length > this.max;
    let done: Promise<void> = Promise.resolve();
    if (mustWait) {
      // The batch is durable when its last entry is: the writer keeps the queue's order.
      done = new Promise<void>((resolve, reject) => {
        let left = entries.length;
        let failed = false;
        const w: Waiter = {
          resolve: () => {
            if (--left === 0 && !failed) resolve();
          },
          reject: (e) => {
            failed = true;
            reject(e);
          },
        };
        for (const e of entries) e.waiter = w;
      });
    }
    this.queue.push(...entries);
    this.kick();
    return done;
  }

  /** True while `write` would wait for the database (the buffer is full). */
  backpressure(): boolean {
    return this.queue.length >= this.max;
  }

  stats(): BufferedSinkStats {
    return { buffered: this.queue.length, written: this.written, retries: this.retries, rejected: this.rejected, lastError: this.lastError, full: this.backpressure() };
  }

  /** Resolves when everything queued so far is durable (waits out an outage). */
  flush(): Promise<void> {
    if (this.queue.length === 0 && this.running === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Flushes, then refuses further writes. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private kick(): void {
    if (this.running !== undefined) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick();
      else for (const r of this.idle.splice(0)) r();
    });
  }

  private async drain(): Promise<void> {
    let delay = this.o.initialRetryMs ?? 100;
    const maxDelay = this.o.maxRetryMs ?? 5_000;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      try {
        await this.writeBatch(batch);
        this.queue.splice(0, batch.length);
        this.written += batch.length;
        for (const e of batch) e.waiter?.resolve();
        if (this.lastError !== null) this.o.log?.("incident store reachable again", { buffered: this.queue.length });
        this.lastError = null;
        delay = this.o.initialRetryMs ?? 100;
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        if (isPermanentDbError(e)) {
          await this.isolate(batch);
          continue;
        }
        this.retries++;
        if (this.lastError === null) this.o.log?.("incident store unreachable; buffering alerts", { error: error.message, buffered: this.queue.length });
        this.lastError = error.message;
        await sleep(delay * (0.75 + Math.random() * 0.5));
        delay = Math.min(maxDelay, delay * 2);
      }
    }
  }

  private writeBatch(batch: readonly Entry[]): Promise<void> {
    return this.inner.write(
      batch.filter((e) => !e.isUpdate).map((e) => e.alert),
      batch.filter((e) => e.isUpdate).map((e) => e.alert),
    );
  }

  /** A batch the database refused: written one alert at a time; the refused ones are reported. */
  private async isolate(batch: readonly Entry[]): Promise<void> {
    for (const e of batch) {
      for (;;) {
        try {
          await this.writeBatch([e]);
          this.written++;
          e.waiter?.resolve();
          break;
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          if (!isPermanentDbError(err)) {
            this.retries++;
            this.lastError = error.message;
            await sleep(this.o.maxRetryMs ?? 5_000);
            continue;
          }
          this.rejected++;
          this.o.log?.("incident store refused an alert", { alert: e.alert.id, rule: e.alert.rule, error: error.message });
          this.o.onRejected?.(e.alert, error);
          e.waiter?.reject(error);
          break;
        }
      }
      this.queue.splice(this.queue.indexOf(e), 1);
    }
  }
}
