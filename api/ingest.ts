/**
 * An EventIngest that decodes request bodies with Vigil's own parsers (JSON events, or log
 * lines through the syslog/sshd decoder) and hands the events to `deliver`: `vigil run`
 * delivers them to its bus or to JetStream. Every refused line is reported with its reason.
 */
import { createDecoder, MAX_LINE_BYTES } from "../connectors/parsers/index.js";
import type { Actor } from "../connectors/store/types.js";
import type { EventFields } from "../engine/index.js";
import type { EventIngest, IngestRejection, IngestResult } from "./ports.js";

export interface DecodingIngestOptions {
  /** Takes the decoded events of one request; resolves when they are durable or queued. */
  deliver(events: EventFields[], actor: Actor): Promise<void>;
  /** Source name for the ids of events without one (default `api`). */
  readonly source?: string;
  /** Clock of syslog year inference, for tests. */
  readonly now?: () => number;
}

export function createDecodingIngest(opts: DecodingIngestOptions): EventIngest {
  return {
    async ingest(body: Buffer, contentType: string, actor: Actor): Promise<IngestResult> {
      const decoder = createDecoder(contentType === "text/plain" ? "auto" : "json", {
        source: opts.source ?? "api",
        ...(opts.now !== undefined ? { now: opts.now } : {}),
      });
      const text = body.toString("utf8");
      let lines: string[];
      if (contentType === "application/json") {
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (e) {
          return { accepted: 0, rejected: [{ line: 1, reason: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` }] };
        }
        lines = (Array.isArray(doc) ? doc : [doc]).map((d) => JSON.stringify(d) ?? "null");
      } else {
        lines = text.split(/\r?\n/);
        if (lines[lines.length - 1] === "") lines.pop();
      }
      const events: EventFields[] = [];
      const rejected: IngestRejection[] = [];
      for (const [i, line] of lines.entries()) {
        if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
          rejected.push({ line: i + 1, reason: `line_too_long: longer than ${MAX_LINE_BYTES} bytes` });
          continue;
        }
        const r = decoder.decode(line, i + 1);
        if (r.ok) events.push(...r.events);
        else rejected.push({ line: i + 1, reason: `${r.reason}: ${r.message}` });
      }
      if (events.length > 0) await opts.deliver(events, actor);
      return { accepted: events.length, rejected };
    },
  };
}
