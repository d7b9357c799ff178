/**
 * Forwards alerts to a SIEM, batched and retried, never holding up the pipeline: `write`
 * only buffers (up to a bound; beyond it the oldest are dropped and counted), a timer or a
 * full batch sends. Formats:
 * - Elasticsearch bulk API: `POST <url>/_bulk`, NDJSON, `{"index":{"_index":…,"_id":<alert id>}}`
 *   then the document (the alert record with `@timestamp`); re-sending an alert overwrites it;
 * - Splunk HTTP Event Collector: `POST <url>/services/collector/event`,
 *   `Authorization: Splunk <token>`, one `{"time","host","source","sourcetype","index","event"}`
 *   object per alert, concatenated.
 */
import { pino, type Logger } from "pino";
import { maskValue } from "../../engine/mask.js";
import { alertRecord } from "../../engine/alert-record.js";
import type { Alert } from "../../engine/alert.js";
import type { AlertSink } from "../../engine/pipeline.js";
import { post, redact } from "./http.js";
import { PermanentError, type RetryPolicy, backoffMs, errorText, sleep, withTimeout } from "./resilience.js";

export type SiemTarget =
  | {
      readonly kind: "elasticsearch";
      readonly url: string;
      readonly index?: string;
      readonly api_key?: string;
      readonly username?: string;
      readonly password?: string;
    }
  | {
      readonly kind: "splunk";
      readonly url: string;
      readonly token: string;
      readonly sourcetype?: string;
      readonly index?: string;
      readonly host?: string;
    };

export interface SiemOptions {
  readonly target: SiemTarget;
  /** Alerts per request. Default 500. */
  readonly batchSize?: number;
  /** How long an alert may wait for a batch. Default 1000 ms. */
  readonly flushMs?: number;
  /** Alerts held while the SIEM is unreachable; beyond it the oldest are dropped. Default 10 000. */
  readonly maxBuffer?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly logger?: Logger;
}

/** The Elasticsearch bulk body for alerts (NDJSON, ending in a newline). */
export function elasticBulkBody(records: readonly Record<string, unknown>[], index: string): string {
  let out = "";
  for (const r of records) {
    out += `${JSON.stringify({ index: { _index: index, _id: r.id } })}\n`;
    out += `${JSON.stringify({ "@timestamp": r.fired_at, ...r })}\n`;
  }
  return out;
}

/** The Splunk HEC body for alerts: one event object per alert, newline-separated. */
export function splunkHecBody(
  records: readonly Record<string, unknown>[],
  t: Extract<SiemTarget, { kind: "splunk" }>,
): string {
  return records
    .map((r) =>
      JSON.stringify({
        time: Date.parse(String(r.fired_at)) / 1000,
        ...(t.host === undefined ? {} : { host: t.host }),
        source: "vigil",
        sourcetype: t.sourcetype ?? "vigil:alert",
        ...(t.index === undefined ? {} : { index: t.index }),
        event: r,
      }),
    )
    .join("\n");
}

export class SiemForwarder implements AlertSink {
  readonly name: string;
  private buffer: Record<string, unknown>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private readonly retry: RetryPolicy;
  private readonly log: Logger;
  /** Counters, for metrics and tests. */
  readonly stats = { sent: 0, dropped: 0, failedRequests: 0 };

  constructor(private readonly opts: SiemOptions) {
    this.name = `siem:${opts.target.kind}`;
    this.retry = { attempts: 5, baseMs: 500, maxMs: 30_000, timeoutMs: 10_000, ...opts.retry };
    this.log = opts.logger ?? pino({ level: "silent" });
  }

  /** Buffers new alerts and updated ones (re-sent with the same id); never waits for the SIEM. */
  write(alerts: readonly Alert[], updates: readonly Alert[]): Promise<void> {
    for (const a of [...alerts, ...updates]) this.buffer.push(maskValue(alertRecord(a)));
    this.trim();
    if (this.buffer.length >= (this.opts.batchSize ?? 500)) void this.flush();
    else if (this.timer === undefined && this.buffer.length > 0) {
      this.timer = setTimeout(() => void this.flush(), this.opts.flushMs ?? 1_000);
      this.timer.unref();
    }
    return Promise.resolve();
  }

  private trim(): void {
    const max = this.opts.maxBuffer ?? 10_000;
    if (this.buffer.length > max) {
      const n = this.buffer.length - max;
      this.buffer.splice(0, n);
      this.stats.dropped += n;
      this.log.error(
        { dropped: n, target: redact(this.opts.target.url) },
        "SIEM buffer full: oldest alerts dropped",
      );
    }
  }

  /** Sends everything buffered (in batches); resolves when done or given up for now. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sending ??= this.sendAll().finally(() => {
      this.sending = undefined;
      if (this.buffer.length > 0 && this.timer === undefined) {
        this.timer = setTimeout(() => void this.flush(), this.opts.flushMs ?? 1_000);
        this.timer.unref();
      }
    });
    return this.sending;
  }

  private async sendAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.opts.batchSize ?? 500);
      const ok = await this.sendBatch(batch);
      if (!ok) {
        this.buffer.unshift(...batch);
        this.trim();
        return;
      }
    }
  }

  /** One batch with retries; true when it was delivered (or refused for good, which is logged). */
  private async sendBatch(batch: Record<string, unknown>[]): Promise<boolean> {
    for (let i = 1; i <= this.retry.attempts; i++) {
      try {
        const { retry: retryable, dropped } = await withTimeout(this.retry.timeoutMs, (signal) =>
          this.send(batch, signal),
        );
        this.stats.sent += batch.length - retryable.length - dropped;
        if (retryable.length === 0) return true;
        batch = retryable;
        throw new Error(`${retryable.length} documents rejected temporarily`);
      } catch (err) {
        this.stats.failedRequests++;
        if (err instanceof PermanentError) {
          this.stats.dropped += batch.length;
          this.log.error({ err: errorText(err), alerts: batch.length }, "SIEM refused a batch: dropped");
          return true;
        }
        this.log.warn({ err: errorText(err), attempt: i }, "SIEM forward failed");
        if (i < this.retry.attempts) await sleep(backoffMs(this.retry, i));
      }
    }
    return false;
  }

  /** Sends a batch; returns the records to retry (Elasticsearch items refused with 429/5xx) and how many were refused for good. */
  private async send(
    batch: Record<string, unknown>[],
    signal: AbortSignal,
  ): Promise<{ retry: Record<string, unknown>[]; dropped: number }> {
    const t = this.opts.target;
    const base = t.url.replace(/\/+$/, "");
    if (t.kind === "splunk") {
      await post(`${base}/services/collector/event`, splunkHecBody(batch, t), {
        headers: { authorization: `Splunk ${t.token}` },
        signal,
      });
      return { retry: [], dropped: 0 };
    }
    const headers: Record<string, string> = {};
    if (t.api_key !== undefined) headers.authorization = `ApiKey ${t.api_key}`;
    else if (t.username !== undefined)
      headers.authorization = `Basic ${Buffer.from(`${t.username}:${t.password ?? ""}`).toString("base64")}`;
    const text = await post(`${base}/_bulk`, elasticBulkBody(batch, t.index ?? "vigil-alerts"), {
      headers,
      contentType: "application/x-ndjson",
      signal,
    });
    const res = JSON.parse(text) as {
      errors?: boolean;
      items?: { index?: { status?: number; error?: unknown } }[];
    };
    if (res.errors !== true) return { retry: [], dropped: 0 };
    const retry: Record<string, unknown>[] = [];
    let dropped = 0;
    (res.items ?? []).forEach((it, i) => {
      const status = it.index?.status ?? 0;
      if (status === 429 || status >= 500) retry.push(batch[i]!);
      else if (status >= 300) {
        dropped++;
        this.log.error(
          { status, error: it.index?.error, alert_id: batch[i]?.id },
          "Elasticsearch refused an alert: dropped",
        );
      }
    });
    this.stats.dropped += dropped;
    return { retry, dropped };
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
