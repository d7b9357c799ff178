/**
 * An EventIngest that decodes request bodies with Vigil's own parsers (JSON events, or log
 * lines through the syslog/sshd decoder) and hands the events to `deliver`: `vigil run`
 * delivers them to its bus or to JetStream. Every refused line is reported with its reason.
 */
import { createDecoder, MAX_LINE_BYTES } from "../connectors/parsers/index.js";
import type { Actor } from "../connectors/store/types.js";
import { type EventFields, futureTimestampMessage } from "../engine/index.js";

/** One decoded event of a request: its fields, event time (epoch ms), id and the request line it came from. */
export interface IngestedEvent {
  readonly fields: EventFields;
  readonly ts: number;
  readonly id: string;
  /** 1-based line of the request body (the array position for a JSON array). */
  readonly line: number;
}
import type { EventIngest, IngestRejection, IngestResult } from "./ports.js";

export interface DecodingIngestOptions {
  /** Takes the decoded events of one request; resolves when they are durable or queued. */
  deliver(events: IngestedEvent[], actor: Actor): Promise<void>;
  /** Source name for the ids of events without one (default `api`). */
  readonly source?: string;
  /** Clock of syslog year inference and of the future check, for tests. */
  readonly now?: () => number;
  /**
   * Events dated more than this ahead of the clock are refused here (`future_timestamp`), as
   * the engine would refuse them, so that the answer lists them (the pack's `future_skew`).
   */
  readonly futureSkewMs?: () => number;
  /** Told of each request's refused lines (metrics, logs), after the answer is decided. */
  onRejected?(rejected: readonly IngestRejection[]): void;
}

export function createDecodingIngest(opts: DecodingIngestOptions): EventIngest {
  return {
    async ingest(body: Buffer, contentType: string, actor: Actor): Promise<IngestResult> {
      const decoder = createDecoder(contentType === "text/plain" ? "auto" : "json", {
        source: opts.source ?? "api",
        ...(opts.now !== undefined ? { now: opts.now } : {}),
      });
      // A byte-order mark some tools write is no part of the first event.
      const text = body.toString("utf8").replace(/^\uFEFF/, "");
      let lines: string[];
      if (contentType === "application/json") {
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (e) {
          const rejected = [{ line: 1, reason: `invalid_json: ${e instanceof Error ? e.message : String(e)}` }];
          opts.onRejected?.(rejected);
          return { accepted: 0, rejected };
        }
        lines = (Array.isArray(doc) ? doc : [doc]).map((d) => JSON.stringify(d) ?? "null");
      } else {
        lines = text.split(/\r?\n/);
        if (lines[lines.length - 1] === "") lines.pop();
      }
      const events: IngestedEvent[] = [];
      const clock = (opts.now ?? Date.now)();
      const limit = opts.futureSkewMs === undefined ? Infinity : clock + opts.futureSkewMs();
      const rejected: IngestRejection[] = [];
      for (const [i, line] of lines.entries()) {
        if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
          rejected.push({ line: i + 1, reason: `line_too_long: longer than ${MAX_LINE_BYTES} bytes` });
          continue;
        }
        let future: number | undefined;
        const failure = decoder.decodeTo(line, i + 1, -1, (fields, ts, id) => {
          if (ts > limit) future = ts;
          else events.push({ fields, ts, id, line: i + 1 });
        });
        // A blank line is no event, as in files (skipped, not refused).
        if (failure !== undefined && failure.reason !== "empty_line") rejected.push({ line: i + 1, reason: `${failure.reason}: ${failure.message}` });
        else if (future !== undefined) rejected.push({ line: i + 1, reason: `future_timestamp: ${futureTimestampMessage(future, clock, limit - clock)}` });
      }
      if (events.length === 0 && rejected.length === 0) rejected.push({ line: 1, reason: "no_events: the request holds no event (an empty array, or only blank lines)" });
      if (events.length > 0) await opts.deliver(events, actor);
      if (rejected.length > 0) opts.onRejected?.(rejected);
      return { accepted: events.length, rejected };
    },
  };
}
