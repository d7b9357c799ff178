/**
 * Line decoders for log sources: JSON lines of ECS events, and syslog (with sshd enrichment).
 * Every event a decoder returns has a string `event.id` (its own, for JSON that has one, else
 * `file:line[.k]-hash` from event-id.ts) and a `@timestamp`. `decode` never throws.
 */
import { Buffer } from "node:buffer";
import { fieldReader, type EventFields } from "../../engine/event.js";
import { fnv1a32Hex, formatEventId, hashHex, sourceBasename } from "./event-id.js";
import { parseJsonEvent } from "./json.js";
import { looksLikeAccessLog, parseAccessLogLine } from "./access-log.js";
import { parseApiEvent } from "./api-event.js";
import { isSshdProgram, SshdEnricher } from "./sshd.js";
import { createSyslogParser, MutableSyslogRecord, type SyslogOptions, type SyslogRecord } from "./syslog.js";
import { parseFailure, type EventFilter, type EventSink, type ParseFailure, type ParseResult, type StreamLineDecoder } from "./types.js";

export type { EventFilter, EventSink, LineDecoder, ParseFailure, ParseFailureReason, ParseResult, ParseSuccess, StreamLineDecoder } from "./types.js";
export { PARSE_FAILURE_REASONS } from "./types.js";
export { fnv1a32, fnv1a32Hex, formatEventId, hashHex, lineEventId, sourceBasename } from "./event-id.js";
export { parseSshdMessage } from "./sshd.js";

export type DecoderFormat = "auto" | "json" | "sshd" | "syslog" | "access" | "api";
/** Every {@link DecoderFormat}, as the CLI and the configuration accept them. */
export const DECODER_FORMATS: readonly DecoderFormat[] = ["auto", "json", "sshd", "syslog", "access", "api"];

export interface DecoderOptions extends SyslogOptions {
  /** The source's path or name; its basename prefixes derived event ids. */
  source: string;
}

/** Longest accepted line, in UTF-8 bytes (without its line terminator). */
export const MAX_LINE_BYTES = 65_536;
/** Most events one `message repeated N times` line expands to. */
export const MAX_REPEAT = 10_000;

const REPEATED = /^message repeated (\d+) times: \[ ?(.*)\]$/;
const FORMATS: ReadonlySet<string> = new Set(["auto", "json", "sshd", "syslog", "access", "api"]);
const readEventId = fieldReader("event.id");

/** Decides a source's format from its first lines: "json" when most non-blank lines start with `{`. */
export function detectFormat(sample: readonly string[]): "json" | "sshd" {
  let json = 0;
  let other = 0;
  for (const line of sample) {
    const t = line.trimStart(); // also drops a byte order mark
    if (t === "") continue;
    if (t.charCodeAt(0) === 123) json++;
    else other++;
  }
  return json > other ? "json" : "sshd";
}

function startsWithBrace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 123) return true;
    if (c !== 32 && c !== 9) return false;
  }
  return false;
}

/**
 * A stateful decoder for one source. "sshd" and "syslog" are the same decoder: syslog lines,
 * with sshd fields added to sshd's lines. "auto" decodes a line starting with `{` as JSON and
 * any other as syslog. Throws RangeError for a bad format, year or time zone (configuration).
 */
export function createDecoder(format: DecoderFormat, opts: DecoderOptions): StreamLineDecoder {
  if (!FORMATS.has(format)) throw new RangeError(`unknown format "${String(format)}": expected auto, json, sshd, syslog, access or api`);
  const base = sourceBasename(opts.source);
  const syslog = format === "json" || format === "api" ? undefined : createSyslogParser(opts);
  const sshd = new SshdEnricher();
  const rec = new MutableSyslogRecord();
  /** The current call's sink, and whether it is running (its errors are not the decoder's). */
  let sink: EventSink = noSink;
  let filter: EventFilter | undefined;
  let inSink = false;

  function emit(fields: EventFields, ts: number, id: string): void {
    inSink = true;
    if (filter === undefined || filter.keep(fields)) sink(fields, ts, id);
    else filter.pass(ts);
    inSink = false;
  }

  function decodeAccess(line: string, lineNo: number, lineHash: number): ParseFailure | undefined {
    const r = parseAccessLogLine(line);
    if (!r.ok) return r;
    const id = formatEventId(base, lineNo, 1, lineHash >= 0 ? hashHex(lineHash) : fnv1a32Hex(line));
    r.fields["event.id"] = id;
    emit(r.fields, r.ts, id);
    return undefined;
  }

  function decodeJson(line: string, lineNo: number, lineHash: number): ParseFailure | undefined {
    const r = format === "api" ? parseApiEvent(line) : parseJsonEvent(line);
    if (!r.ok) return r;
    let id = r.id;
    if (id === undefined) {
      id = formatEventId(base, lineNo, 1, lineHash >= 0 ? hashHex(lineHash) : fnv1a32Hex(line));
      r.fields["event.id"] = id;
    } else if (typeof readEventId(r.fields) !== "string") r.fields["event.id"] = id;
    emit(r.fields, r.ts, id);
    return undefined;
  }

  function decodeSyslog(line: string, lineNo: number, lineHash: number, rec: SyslogRecord): undefined {
    let message = rec.message;
    let repeat = 1;
    if (message.startsWith("message repeated ")) {
      const m = REPEATED.exec(message);
      const n = m === null ? 0 : Number(m[1]);
      if (m !== null && n >= 1) {
        repeat = Math.min(n, MAX_REPEAT);
        message = m[2] ?? "";
      }
    }
    // With a filter, the id (and the line's hash) waits until the event is known to be kept.
    const f = filter;
    let hash = f === undefined ? (lineHash >= 0 ? hashHex(lineHash) : fnv1a32Hex(line)) : "";
    let id = f === undefined ? formatEventId(base, lineNo, 1, hash) : PENDING_ID;
    const isSshd = isSshdProgram(rec.program);
    let ev: EventFields;
    if (isSshd && rec.pid !== undefined) {
      // The common case, built in one literal with the fields every sshd event has.
      ev = {
        "@timestamp": rec.timestamp,
        "event.id": id,
        "host.name": rec.host,
        message,
        "process.name": rec.program,
        "process.pid": rec.pid,
        "service.name": "sshd",
        "event.dataset": "sshd",
        "event.module": "system",
        "event.action": "ssh_other",
        // Every field sshd enrichment may set, so that all sshd events share one object shape
        // with in-object storage; unset ones stay undefined, which reads as missing.
        "event.category": undefined,
        "event.type": undefined,
        "event.outcome": undefined,
        "user.name": undefined,
        "source.address": undefined,
        "source.ip": undefined,
        "source.domain": undefined,
        "source.port": undefined,
      };
    } else {
      ev = { "@timestamp": rec.timestamp, "event.id": id, "host.name": rec.host, message };
      if (rec.program !== undefined) ev["process.name"] = rec.program;
      if (rec.pid !== undefined) ev["process.pid"] = rec.pid;
    }
    if (rec.priority !== undefined) {
      ev["log.syslog.priority"] = rec.priority;
      ev["log.syslog.facility.code"] = rec.priority >> 3;
      ev["log.syslog.severity.code"] = rec.priority & 7;
    }
    if (isSshd) sshd.enrich(ev, message, rec.host, rec.pid, rec.subsystem !== undefined && rec.subsystem.startsWith("pam_"));
    const ts = rec.ts;
    if (f !== undefined) {
      // The copies of a repeated line differ from it only in `event.id`, which `keep` does not read.
      inSink = true;
      const keep = f.keep(ev);
      if (!keep) for (let k = 1; k <= repeat; k++) f.pass(ts);
      inSink = false;
      if (!keep) return undefined;
      hash = lineHash >= 0 ? hashHex(lineHash) : fnv1a32Hex(line);
      id = formatEventId(base, lineNo, 1, hash);
      ev["event.id"] = id;
    }
    if (repeat === 1) {
      deliver(ev, ts, id);
      return undefined;
    }
    // The copies are made before any event leaves, from the event as the decoder built it.
    const copies: EventFields[] = [];
    for (let k = 2; k <= repeat; k++) copies.push({ ...ev, "event.id": formatEventId(base, lineNo, k, hash) });
    deliver(ev, ts, id);
    for (const c of copies) deliver(c, ts, c["event.id"] as string);
    return undefined;
  }

  function decodeLine(raw: string, lineNo: number, lineHash: number): ParseFailure | undefined {
    let line = raw;
    let hash = lineHash;
    let n = line.length;
    if (n > 0 && line.charCodeAt(n - 1) === 10) n--;
    if (n > 0 && line.charCodeAt(n - 1) === 13) n--;
    if (n !== line.length) {
      line = line.slice(0, n);
      hash = -1;
    }
    if (n > 0 && line.charCodeAt(0) === 0xfeff) {
      line = line.slice(1);
      hash = -1;
    }
    if (line.length > MAX_LINE_BYTES / 3 && (line.length > MAX_LINE_BYTES || Buffer.byteLength(line, "utf8") > MAX_LINE_BYTES)) {
      return parseFailure("line_too_long", `line is longer than ${MAX_LINE_BYTES} bytes (64 KiB)`);
    }
    if (line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === "")) return parseFailure("empty_line", "blank line");
    if (syslog === undefined || (format === "auto" && startsWithBrace(line))) return decodeJson(line, lineNo, hash);
    if (format === "access") return decodeAccess(line, lineNo, hash);
    const failure = syslog.parseInto(line, rec);
    if (failure !== undefined) {
      if (format === "auto" && failure.reason === "not_syslog") {
        if (looksLikeAccessLog(line)) return decodeAccess(line, lineNo, hash);
        return parseFailure("not_syslog", `${failure.message}; or a JSON object starting with "{", or an access-log line`);
      }
      return failure;
    }
    return decodeSyslog(line, lineNo, hash, rec);
  }

  /** To the sink without the filter (already applied). */
  function deliver(fields: EventFields, ts: number, id: string): void {
    inSink = true;
    sink(fields, ts, id);
    inSink = false;
  }

  function decodeTo(line: string, lineNo: number, lineHash: number, to: EventSink, keep?: EventFilter): ParseFailure | undefined {
    sink = to;
    filter = keep;
    try {
      return decodeLine(line, lineNo, lineHash);
    } catch (e) {
      if (inSink) {
        inSink = false;
        throw e;
      }
      return parseFailure("decoder_error", `internal decoder error: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      sink = noSink;
      filter = undefined;
    }
  }

  return {
    decodeTo,
    decode(line: string, lineNo: number): ParseResult {
      const events: EventFields[] = [];
      let ts = 0;
      const failure = decodeTo(line, lineNo, -1, (ev, t) => {
        events.push(ev);
        ts = t;
      });
      return failure ?? { ok: true, events, ts };
    },
  };
}

function noSink(): void {}

/** `event.id` of an event while a filter decides on it (the filter does not read it). */
const PENDING_ID = "";
