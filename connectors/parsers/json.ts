/**
 * JSON lines of ECS events, nested (`{"source": {"ip": …}}`) or dotted (`{"source.ip": …}`).
 * The document is kept as it arrived; the decoder only adds `event.id` when it has none.
 */
import { fieldReader, parseEventTime, type EventFields } from "../../engine/event.js";
import { parseFailure, type ParseFailure } from "./types.js";

const readEventId = fieldReader("event.id");

export interface JsonEvent {
  readonly ok: true;
  readonly fields: EventFields;
  /** The event's own `event.id` (a non-empty string, or a number as a string), if it has one. */
  readonly id: string | undefined;
  /** `@timestamp` in epoch ms. */
  readonly ts: number;
}

/**
 * Parses a line that must hold one JSON object (`what`: what a line holds, for the message).
 * Never throws: invalid JSON and other values are typed failures.
 */
export function parseJsonObjectLine(line: string, what: string): { readonly ok: true; readonly object: Record<string, unknown> } | ParseFailure {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return parseFailure("invalid_json", `invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return parseFailure("not_an_object", `expected a JSON object (${what} per line), got ${kind}`);
  }
  return { ok: true, object: value as Record<string, unknown> };
}

/** Parses one JSON line into an ECS event with a usable `@timestamp`. Never throws. */
export function parseJsonEvent(line: string): JsonEvent | ParseFailure {
  const parsed = parseJsonObjectLine(line, "one ECS event");
  if (!parsed.ok) return parsed;
  const fields = parsed.object as EventFields;
  const rawTs = fields["@timestamp"];
  if (rawTs === undefined || rawTs === null) {
    return parseFailure("missing_timestamp", 'the event has no "@timestamp" (RFC 3339 string or epoch milliseconds)');
  }
  const ts = parseEventTime(rawTs);
  if (ts === undefined) {
    const shown = typeof rawTs === "string" ? `"${rawTs.slice(0, 64)}"` : typeof rawTs;
    return parseFailure("bad_timestamp", `"@timestamp" ${shown} is not an RFC 3339 time or epoch milliseconds`);
  }
  const rawId = readEventId(fields);
  let id: string | undefined;
  if (typeof rawId === "string" && rawId !== "") id = rawId;
  else if (typeof rawId === "number" && Number.isFinite(rawId)) id = String(rawId);
  return { ok: true, fields, id, ts };
}
