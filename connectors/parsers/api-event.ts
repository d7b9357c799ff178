/**
 * JSON API events (one JSON object a line, as API gateways and services emit them) → ECS.
 *
 * Input keys (all optional except the time):
 *   @timestamp | timestamp | time   RFC 3339 or epoch ms
 *   id | request_id                 → event.id
 *   service                         → service.name
 *   method, path, query (string or object), status
 *   client_ip                       → source.ip      user → user.name
 *   api_key_id                      → api_key.id     user_agent → user_agent.original
 *   request_body, response_body (string or JSON value), bytes_in, bytes_out, duration_ms
 *   direction: "outbound"           the service called out (the request body leaves)
 *   session: { id, start, last_activity }   → session.*, with session.age_ms, session.idle_ms
 *   action, outcome, category       → event.action, event.outcome, event.category (default web)
 *
 * A line that is already ECS (it has `event` or a dotted `event.*` key) is kept as it is,
 * with only the derived fields added. Derived fields (non-ECS, documented in docs/rule-packs.md):
 *   payload.outbound   the leaf values of the body that leaves the platform (the response of an
 *                      inbound call, the request of an outbound one), as an array of strings,
 *                      so that rules test each value (`luhn(payload.outbound)`)
 *   session.age_ms     event time − session.start
 *   session.idle_ms    event time − session.last_activity (the activity before this one)
 */
import { getField, parseEventTime, type EventFields } from "../../engine/event.js";
import { percentDecode } from "./access-log.js";
import { parseJsonObjectLine } from "./json.js";
import { parseFailure, type ParseFailure } from "./types.js";

/** Most leaf values collected from one body. */
export const MAX_PAYLOAD_VALUES = 256;

export interface ApiEvent {
  readonly ok: true;
  readonly fields: EventFields;
  readonly id: string | undefined;
  readonly ts: number;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;
}

/** The leaf values of a JSON value (strings and numbers as text), depth-first, capped. */
export function leafValues(v: unknown, out: string[] = [], depth = 0): string[] {
  if (out.length >= MAX_PAYLOAD_VALUES || depth > 32) return out;
  if (typeof v === "string") out.push(v);
  else if (typeof v === "number" && Number.isFinite(v)) out.push(String(v));
  else if (Array.isArray(v)) for (const x of v) leafValues(x, out, depth + 1);
  else if (v !== null && typeof v === "object") for (const x of Object.values(v)) leafValues(x, out, depth + 1);
  return out;
}

/** A body as text (JSON values serialised) and its leaf values (a text body that is JSON is parsed). */
function body(v: unknown): { text: string; values: string[] } | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") {
    const t = v.trimStart();
    if (t.startsWith("{") || t.startsWith("[")) {
      try {
        return { text: v, values: leafValues(JSON.parse(v)) };
      } catch {
        /* not JSON: a text body */
      }
    }
    return { text: v, values: [v] };
  }
  return { text: JSON.stringify(v), values: leafValues(v) };
}

/** Adds `session.age_ms` and `session.idle_ms` from `session.start` / `session.last_activity`. */
export function deriveSessionTimings(fields: EventFields, ts: number): void {
  const start = parseEventTime(getField(fields, "session.start"));
  const last = parseEventTime(getField(fields, "session.last_activity"));
  if (start !== undefined) fields["session.age_ms"] = ts - start;
  if (last !== undefined) fields["session.idle_ms"] = ts - last;
}

function isEcs(o: Record<string, unknown>): boolean {
  if (typeof o.event === "object" && o.event !== null) return true;
  for (const k of Object.keys(o)) if (k.startsWith("event.")) return true;
  return false;
}

/** Parses one API event line. Never throws. */
export function parseApiEvent(line: string): ApiEvent | ParseFailure {
  const parsed = parseJsonObjectLine(line, "one API event");
  if (!parsed.ok) return parsed;
  const o = parsed.object;
  const rawTs = o["@timestamp"] ?? o.timestamp ?? o.time;
  if (rawTs === undefined || rawTs === null) return parseFailure("missing_timestamp", 'the API event has no "@timestamp", "timestamp" or "time"');
  const ts = parseEventTime(rawTs);
  if (ts === undefined) return parseFailure("bad_timestamp", `the API event's time ${JSON.stringify(rawTs).slice(0, 64)} is not RFC 3339 or epoch milliseconds`);

  if (isEcs(o)) {
    const fields = o as EventFields;
    deriveSessionTimings(fields, ts);
    const out = body(getField(fields, getField(fields, "network.direction") === "egress" ? "http.request.body.content" : "http.response.body.content"));
    if (out !== undefined && getField(fields, "payload.outbound") === undefined) fields["payload.outbound"] = out.values;
    return { ok: true, fields, id: str(getField(fields, "event.id")), ts };
  }

  const outbound = o.direction === "outbound";
  const ev: EventFields = {
    "@timestamp": typeof rawTs === "string" ? rawTs : new Date(ts).toISOString(),
    "event.kind": "event",
    "event.category": typeof o.category === "string" ? [o.category] : ["web"],
    "event.type": ["access"],
    "event.dataset": "api.event",
    "event.module": "api",
    "network.direction": outbound ? "egress" : "ingress",
  };
  const set = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== "") ev[k] = v;
  };
  set("service.name", str(o.service));
  set("event.action", str(o.action));
  set("http.request.method", typeof o.method === "string" ? o.method.toUpperCase() : undefined);
  if (typeof o.path === "string") {
    set("url.original", typeof o.query === "string" && o.query !== "" ? `${o.path}?${o.query}` : o.path);
    set("url.path", percentDecode(o.path, false));
  }
  if (typeof o.query === "string") set("url.query", percentDecode(o.query, true));
  else if (o.query !== null && typeof o.query === "object") {
    set("url.query", Object.entries(o.query).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join("&"));
  }
  const status = typeof o.status === "number" ? o.status : typeof o.status === "string" && /^\d{3}$/.test(o.status) ? Number(o.status) : undefined;
  set("http.response.status_code", status);
  set("event.outcome", typeof o.outcome === "string" ? o.outcome : status === undefined ? undefined : status >= 400 ? "failure" : "success");
  set("source.ip", str(o.client_ip));
  set("source.address", str(o.client_ip));
  set("destination.domain", str(o.destination));
  set("user.name", str(o.user));
  set("api_key.id", str(o.api_key_id));
  set("user_agent.original", str(o.user_agent));
  set("http.request.body.bytes", typeof o.bytes_in === "number" ? o.bytes_in : undefined);
  set("http.response.body.bytes", typeof o.bytes_out === "number" ? o.bytes_out : undefined);
  set("event.duration", typeof o.duration_ms === "number" ? o.duration_ms * 1e6 : undefined);
  const req = body(o.request_body);
  const res = body(o.response_body);
  set("http.request.body.content", req?.text);
  set("http.response.body.content", res?.text);
  const out = outbound ? req : res;
  if (out !== undefined) ev["payload.outbound"] = out.values;
  if (o.session !== null && typeof o.session === "object") {
    const s = o.session as Record<string, unknown>;
    set("session.id", str(s.id));
    set("session.start", s.start);
    set("session.last_activity", s.last_activity);
    deriveSessionTimings(ev, ts);
  }
  const id = str(o.id) ?? str(o.request_id);
  if (id !== undefined) ev["event.id"] = id;
  return { ok: true, fields: ev, id, ts };
}
