import { fieldReader } from "../../dsl/index.js";
import { parseEventTime, type EngineEvent, type EventFields } from "../../engine/index.js";
import type { DeadLetter } from "../../engine/pipeline.js";

export interface DecodeLimits {
  /** Largest accepted message, bytes. */
  readonly maxMessageBytes: number;
  /** Most events one message (NDJSON) may carry. */
  readonly maxEventsPerMessage: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxMessageBytes: 1 << 20, maxEventsPerMessage: 10_000 };

export interface Decoded {
  readonly events: EngineEvent[];
  readonly dead: DeadLetter[];
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();
// Resolved once: a reader per call would parse the path again for every event.
const readTimestamp = fieldReader("@timestamp");
const readEventId = fieldReader("event.id");

/**
 * Decodes one message of `security.events.<service>.<category>`: one ECS JSON event, or many as
 * NDJSON. Each event keeps its `event.id`, else gets `subject#seq[.k]`. A line that is not a
 * JSON object, or has no usable `@timestamp`, goes to the dead letters with its reason; the
 * good events around it are kept. `seq` orders events: stream sequence × 65,536 + line.
 */
export function decodeMessage(data: Uint8Array, subject: string, streamSeq: number, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Decoded {
  const dead = (reason: string, message: string, bytes: Uint8Array = data): Decoded => ({
    events: [],
    dead: [{ reason, message, origin: subject, position: streamSeq, data: bytes }],
  });
  if (data.length > limits.maxMessageBytes) return dead("too_large", `message of ${data.length} bytes exceeds the limit of ${limits.maxMessageBytes}`);
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return dead("invalid_utf8", "message is not valid UTF-8");
  }
  // One event a message is the common case: no split.
  const lines = text.indexOf("\n") < 0 ? [text] : text.split("\n");
  const out: Decoded = { events: [], dead: [] };
  let k = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "") continue;
    k++;
    if (k > limits.maxEventsPerMessage) {
      out.dead.push(badLine("too_many_events", `more than ${limits.maxEventsPerMessage} events in one message`, subject, streamSeq, line));
      break;
    }
    let fields: unknown;
    try {
      fields = JSON.parse(line);
    } catch (err) {
      out.dead.push(badLine("invalid_json", `not JSON: ${(err as Error).message}`, subject, streamSeq, line));
      continue;
    }
    if (fields === null || typeof fields !== "object" || Array.isArray(fields)) {
      out.dead.push(badLine("not_an_object", "an event must be a JSON object", subject, streamSeq, line));
      continue;
    }
    const f = fields as EventFields;
    const ts = parseEventTime(readTimestamp(f));
    if (ts === undefined) {
      out.dead.push(badLine("missing_timestamp", "the event has no usable @timestamp (RFC 3339 or epoch milliseconds)", subject, streamSeq, line));
      continue;
    }
    const id = readEventId(f);
    out.events.push({
      id: typeof id === "string" && id !== "" ? id : `${subject}#${streamSeq}${k > 1 ? `.${k}` : ""}`,
      ts,
      seq: streamSeq * 65_536 + k,
      fields: f,
      source: subject,
      position: streamSeq,
    });
  }
  return out;
}

function badLine(reason: string, message: string, subject: string, streamSeq: number, line: string): DeadLetter {
  return { reason, message, origin: subject, position: streamSeq, data: encoder.encode(line) };
}
