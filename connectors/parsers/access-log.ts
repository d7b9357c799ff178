/**
 * Web server access logs (Apache/nginx "combined" and "common" formats) → ECS events.
 *
 *   203.0.113.9 - alice [22/Dec/2016:22:32:31 +0300] "GET /a?b=1 HTTP/1.1" 200 3279 "ref" "UA"
 *
 * The common format stops after the size; the combined adds referrer and user agent. A line
 * wrapped in an extra pair of double quotes (as some archives store them) is unwrapped.
 * `url.original` keeps the request target as sent; `url.path` and `url.query` are
 * percent-decoded (in the query, `+` is a space) so that rules match what the application
 * sees; an encoding that does not decode is kept as sent. Fields are flat dotted keys.
 */
import type { EventFields } from "../../engine/event.js";
import { classifyAddress, setSourceFields } from "./address.js";
import { parseFailure, type ParseFailure } from "./types.js";

const MONTHS: Readonly<Record<string, number>> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

// host ident user [time] "request" status size ["referrer" "agent"]; the request and the quoted
// fields may hold escaped quotes (\"). Each variable part is bounded by a literal: linear.
const LINE =
  /^(\S+) (\S+) (.*?) \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? ([+-])(\d{2})(\d{2})\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(?: .*)?$/;

export interface AccessLogEvent {
  readonly ok: true;
  readonly fields: EventFields;
  readonly ts: number;
}

/** Percent-decodes; on a malformed escape, decodes what it can and keeps the rest as sent. */
export function percentDecode(s: string, plusIsSpace: boolean): string {
  const t = plusIsSpace ? s.replace(/\+/g, " ") : s;
  if (!t.includes("%")) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    return t.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** Apache escapes `"` and `\\` in quoted fields (and writes other bytes as `\\xhh`, kept as they are). */
function unescapeQuoted(s: string): string {
  return s.includes("\\") ? s.replace(/\\(["\\])/g, "$1") : s;
}

/** Parses one access-log line. Never throws. */
export function parseAccessLogLine(raw: string): AccessLogEvent | ParseFailure {
  let line = raw;
  // Archives that wrap each line in quotes: "1.2.3.4 - - [...] "GET / HTTP/1.1" 200 5 "-" "ua""
  if (line.length > 2 && line.charCodeAt(0) === 34 && line.charCodeAt(line.length - 1) === 34 && line.charCodeAt(1) !== 34) line = line.slice(1, -1);
  const m = LINE.exec(line);
  if (m === null) return parseFailure("not_access_log", 'not an access-log line: expected `HOST IDENT USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "REQUEST" STATUS SIZE ["REFERRER" "AGENT"]`');
  const [, host, , user, dd, mon, yyyy, hh, mi, ss, frac, sign, oh, om, request, status, size, referrer, agent] = m as unknown as string[];
  const month = MONTHS[mon!];
  if (month === undefined) return parseFailure("bad_timestamp", `unknown month "${mon}" in the access-log time`);
  const offsetMin = (Number(oh) * 60 + Number(om)) * (sign === "-" ? -1 : 1);
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  const ts = Date.UTC(Number(yyyy), month, Number(dd), Number(hh), Number(mi), Number(ss), ms) - offsetMin * 60_000;
  if (!Number.isFinite(ts) || Number(dd) < 1 || Number(dd) > 31 || Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 60) {
    return parseFailure("bad_timestamp", "the access-log time is not a valid date");
  }
  const ev: EventFields = {
    "@timestamp": new Date(ts).toISOString(),
    "event.kind": "event",
    "event.category": ["web"],
    "event.type": ["access"],
    "event.dataset": "http.access",
    "event.module": "http",
    "service.name": "httpd",
  };
  const a = classifyAddress(host!);
  if (a !== undefined) setSourceFields(ev, a);
  else ev["source.address"] = host;
  if (user !== undefined && user !== "-" && user !== "") ev["user.name"] = unescapeQuoted(user);
  const req = unescapeQuoted(request!);
  const parts = req.split(" ");
  if (parts.length >= 2 && /^[A-Za-z][A-Za-z0-9_-]*$/.test(parts[0]!)) {
    ev["http.request.method"] = parts[0]!.toUpperCase();
    const last = parts[parts.length - 1]!;
    const hasVersion = parts.length >= 3 && /^HTTP\/\d(?:\.\d)?$/i.test(last);
    if (hasVersion) ev["http.version"] = last.slice(5);
    const target = parts.slice(1, hasVersion ? -1 : undefined).join(" ");
    ev["url.original"] = target;
    const q = target.indexOf("?");
    ev["url.path"] = percentDecode(q === -1 ? target : target.slice(0, q), false);
    if (q !== -1) ev["url.query"] = percentDecode(target.slice(q + 1), true);
  } else {
    ev["url.original"] = req; // a garbage request line (a binary probe): kept for the rules
  }
  if (status !== "-") {
    const code = Number(status);
    ev["http.response.status_code"] = code;
    ev["event.outcome"] = code >= 400 ? "failure" : "success";
  }
  if (size !== "-") ev["http.response.body.bytes"] = Number(size);
  if (referrer !== undefined && referrer !== "-") ev["http.request.referrer"] = unescapeQuoted(referrer);
  if (agent !== undefined && agent !== "-" && agent !== "") ev["user_agent.original"] = unescapeQuoted(agent);
  return { ok: true, fields: ev, ts };
}

/** True when a line looks like an access-log line (for format detection). */
export function looksLikeAccessLog(line: string): boolean {
  return LINE.test(line.length > 2 && line.startsWith('"') && line.endsWith('"') ? line.slice(1, -1) : line);
}
