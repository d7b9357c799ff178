import { type EngineEvent, getField, parseEventTime } from "../../engine/index.js";
import type { DeadLetter } from "../../engine/pipeline.js";

export interface IngestResult {
  readonly accepted: number;
  /** Lines (1-based) that could not become events, with why; they went to the dead letters too. */
  readonly rejected: readonly { readonly line: number; readonly reason: string; readonly message: string }[];
}

export interface IngestLimits {
  readonly maxEvents: number;
}

const encoder = new TextEncoder();

/**
 * Turns an ingest request body into events: one JSON event, a JSON array of events, or
 * NDJSON (one event a line). Each event keeps its `event.id`, else gets `http#<request>.<k>`;
 * a line that is not an object or lacks a usable `@timestamp` is rejected with its reason.
 */
export function decodeIngestBody(body: string, request: number, seqBase: number, limits: IngestLimits): { events: EngineEvent[]; dead: DeadLetter[]; result: IngestResult } {
  const events: EngineEvent[] = [];
  const dead: DeadLetter[] = [];
  const rejected: { line: number; reason: string; message: string }[] = [];
  const origin = `http#${request}`;
  const reject = (line: number, reason: string, message: string, raw: string) => {
    rejected.push({ line, reason, message });
    dead.push({ reason, message, origin, position: line, data: encoder.encode(raw) });
  };
  const take = (value: unknown, line: number, raw: string) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return reject(line, "not_an_object", "an event must be a JSON object", raw);
    const fields = value as Record<string, unknown>;
    const ts = parseEventTime(getField(fields, "@timestamp"));
    if (ts === undefined) return reject(line, "missing_timestamp", "the event has no usable @timestamp (RFC 3339 or epoch milliseconds)", raw);
    const id = getField(fields, "event.id");
    events.push({ id: typeof id === "string" && id !== "" ? id : `${origin}.${line}`, ts, seq: seqBase + line, fields, source: origin, position: line });
  };

  const trimmed = body.trimStart();
  if (trimmed.startsWith("[")) {
    let arr: unknown;
    try {
      arr = JSON.parse(body);
    } catch (err) {
      reject(1, "invalid_json", `not JSON: ${(err as Error).message}`, body);
      return { events, dead, result: { accepted: 0, rejected } };
    }
    const items = Array.isArray(arr) ? arr : [];
    if (items.length > limits.maxEvents) {
      reject(1, "too_many_events", `more than ${limits.maxEvents} events in one request`, "");
      return { events, dead, result: { accepted: 0, rejected } };
    }
    items.forEach((v, i) => take(v, i + 1, JSON.stringify(v)));
    return { events, dead, result: { accepted: events.length, rejected } };
  }
  const lines = body.split("\n");
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "") continue;
    if (++n > limits.maxEvents) {
      reject(i + 1, "too_many_events", `more than ${limits.maxEvents} events in one request`, "");
      break;
    }
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (err) {
      reject(i + 1, "invalid_json", `not JSON: ${(err as Error).message}`, raw);
      continue;
    }
    take(v, i + 1, raw);
  }
  return { events, dead, result: { accepted: events.length, rejected } };
}
