/**
 * Syslog line parsing: RFC 3164 (`Mmm dd HH:MM:SS host tag: message`, optionally after a
 * `<PRI>`) and the RFC 3339-timestamped form rsyslog writes (`2024-03-01T10:00:00.123456+01:00
 * host tag: message`). Tags: `prog[pid]:`, `prog(sub)[pid]:` (legacy `sshd(pam_unix)[123]:`),
 * `prog:`. A line whose tag is not one of those keeps the whole rest as its message.
 *
 * RFC 3164 timestamps carry no year and no zone. The zone is `tz` (IANA, default UTC). The year
 * is `year` if given, else inferred: the current year in `tz`, or the previous one when the
 * first line would be more than a day in the future. Either way it is the year of the *first*
 * line; afterwards a month going backwards by more than 6 months (December → January) moves to
 * the next year. Without an explicit `year`, a line is never placed more than a day in the
 * future: such a rollover is not taken, and such a line (a late December line after January)
 * is placed in the previous year.
 */
import { parseEventTime } from "../../engine/event.js";
import { parseFailure, type ParseFailure } from "./types.js";
import { createZoneConverter, daysFromCivil, daysInMonth } from "./zone.js";

export interface SyslogOptions {
  /** Year of the first RFC 3164 line (1–9999); inferred from `now` when absent. */
  year?: number;
  /** IANA zone of RFC 3164 timestamps; default "UTC". */
  tz?: string;
  /** Clock for year inference, epoch ms; default Date.now. */
  now?: () => number;
}

export interface SyslogRecord {
  readonly ok: true;
  /** Event time, epoch ms. */
  readonly ts: number;
  /** Event time as an ISO 8601 UTC string with milliseconds (`…T06:55:46.000Z`). */
  readonly timestamp: string;
  readonly host: string;
  /** The tag's program name (`sshd`), when the line has a recognisable tag. */
  readonly program: string | undefined;
  /** The parenthesised part of a legacy tag (`pam_unix` in `sshd(pam_unix)[123]:`). */
  readonly subsystem: string | undefined;
  readonly pid: number | undefined;
  /** `<PRI>` value when the line starts with one. */
  readonly priority: number | undefined;
  readonly message: string;
}

/** A reusable record for {@link SyslogParser.parseInto} (no allocation per line). */
export class MutableSyslogRecord implements SyslogRecord {
  readonly ok = true as const;
  ts = 0;
  timestamp = "";
  host = "";
  program: string | undefined = undefined;
  subsystem: string | undefined = undefined;
  pid: number | undefined = undefined;
  priority: number | undefined = undefined;
  message = "";
}

export interface SyslogParser {
  /** Parses a line (without its line terminator) into a new record. */
  parse(line: string): SyslogRecord | ParseFailure;
  /** Parses a line into `into` and returns undefined, or returns why it is not syslog. */
  parseInto(line: string, into: MutableSyslogRecord): ParseFailure | undefined;
}

const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const MIN_TS = daysFromCivil(0, 1, 1) * DAY;
const MAX_TS = daysFromCivil(10_000, 1, 1) * DAY - 1;
const MAX_TAG = 128;
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

let MM_SS: readonly string[] | undefined;

/** "00:00.000Z" … "59:59.000Z", by second of the hour (built on first use). */
function minuteSecondSuffixes(): readonly string[] {
  if (MM_SS === undefined) {
    const two = (n: number) => (n < 10 ? `0${n}` : String(n));
    MM_SS = Array.from({ length: 3600 }, (_, s) => `${two(Math.floor(s / 60))}:${two(s % 60)}.000Z`);
  }
  return MM_SS;
}

export const NOT_SYSLOG_MESSAGE =
  'expected a syslog line: "Mmm dd HH:MM:SS host program[pid]: message" (RFC 3164) or the same after an RFC 3339 timestamp';

/** Month 1–12 from the three characters at `i` (`Jan` … `Dec`, case-sensitive), or 0. */
function monthAt(s: string, i: number): number {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  const c = s.charCodeAt(i + 2);
  switch (a) {
    case 74: // J
      if (b === 97 && c === 110) return 1; // Jan
      if (b === 117) return c === 110 ? 6 : c === 108 ? 7 : 0; // Jun, Jul
      return 0;
    case 70: return b === 101 && c === 98 ? 2 : 0; // Feb
    case 77: return b === 97 ? (c === 114 ? 3 : c === 121 ? 5 : 0) : 0; // Mar, May
    case 65: return b === 112 && c === 114 ? 4 : b === 117 && c === 103 ? 8 : 0; // Apr, Aug
    case 83: return b === 101 && c === 112 ? 9 : 0; // Sep
    case 79: return b === 99 && c === 116 ? 10 : 0; // Oct
    case 78: return b === 111 && c === 118 ? 11 : 0; // Nov
    case 68: return b === 101 && c === 99 ? 12 : 0; // Dec
    default: return 0;
  }
}

/** Value of two ASCII digits at `i`, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

const RFC3339_DATE = /^\d{4}-\d{2}-\d{2}T/;

export function createSyslogParser(opts: SyslogOptions = {}): SyslogParser {
  const explicitYear = opts.year;
  if (explicitYear !== undefined && !(Number.isInteger(explicitYear) && explicitYear >= 1 && explicitYear <= 9999)) {
    throw new RangeError(`year must be an integer from 1 to 9999, got ${String(explicitYear)}`);
  }
  const zone = createZoneConverter(opts.tz ?? "UTC");
  const now = opts.now ?? Date.now;

  let year: number | undefined;
  let lastMonth = 0;
  /** A lower bound of now() + 1 day: timestamps at or below it are certainly not in the future. */
  let futureLimit = Number.NEGATIVE_INFINITY;
  let lastIsoTs = Number.NaN;
  let lastIso = "";
  let isoHour = Number.NaN;
  let isoHourPrefix = "";

  function inFuture(ts: number): boolean {
    if (ts <= futureLimit) return false;
    futureLimit = now() + DAY;
    return ts > futureLimit;
  }

  let lastDayKey = -1;
  let lastDayMs = 0;

  function toTs(y: number, mo: number, d: number, msOfDay: number): number {
    const key = y * 512 + mo * 32 + d;
    if (key !== lastDayKey) {
      lastDayKey = key;
      lastDayMs = daysFromCivil(y, mo, d) * DAY;
    }
    return zone.toUtc(lastDayMs + msOfDay);
  }

  /** ISO string of `ts`; whole seconds reuse the current hour's `YYYY-MM-DDTHH:` prefix. */
  function iso(ts: number): string {
    if (ts === lastIsoTs) return lastIso;
    lastIsoTs = ts;
    const msOfHour = ts - Math.floor(ts / HOUR) * HOUR;
    if (msOfHour % SECOND !== 0) return (lastIso = new Date(ts).toISOString());
    const hour = ts - msOfHour;
    if (hour !== isoHour) {
      isoHour = hour;
      isoHourPrefix = new Date(hour).toISOString().slice(0, -10);
    }
    return (lastIso = isoHourPrefix + (minuteSecondSuffixes()[msOfHour / SECOND] as string));
  }

  /** Epoch ms of an RFC 3164 timestamp, updating the year state; or a failure. */
  function resolve(mo: number, d: number, msOfDay: number, line: string, from: number, to: number): number | ParseFailure {
    let y: number;
    if (year === undefined) {
      if (explicitYear !== undefined) y = explicitYear;
      else {
        const t = now();
        y = new Date(t + zone.offsetAt(t)).getUTCFullYear();
        if (inFuture(toTs(y, mo, Math.min(d, daysInMonth(y, mo)), msOfDay))) y--;
      }
      year = y;
    } else {
      y = year;
      if (mo < lastMonth - 6 && (explicitYear !== undefined || !inFuture(toTs(y + 1, mo, Math.min(d, daysInMonth(y + 1, mo)), msOfDay)))) {
        year = y = y + 1;
      }
    }
    lastMonth = mo;
    if (d > daysInMonth(y, mo)) {
      return parseFailure("bad_timestamp", `bad syslog timestamp "${line.slice(from, to)}": ${MONTH_NAMES[mo - 1] ?? "?"} ${y} has no day ${d}`);
    }
    let ts = toTs(y, mo, d, msOfDay);
    if (explicitYear === undefined && inFuture(ts) && d <= daysInMonth(y - 1, mo)) ts = toTs(y - 1, mo, d, msOfDay);
    if (ts < MIN_TS || ts > MAX_TS) return parseFailure("bad_timestamp", `syslog timestamp "${line.slice(from, to)}" is outside years 0000–9999`);
    return ts;
  }

  // Host and program names repeat from line to line: reuse the previous string when equal.
  let lastHost = "";
  let lastProgram = "";

  function parseInto(line: string, into: MutableSyslogRecord): ParseFailure | undefined {
    let i = 0;
    let priority: number | undefined;
    if (line.charCodeAt(0) === 60) {
      // <PRI>: 1–3 digits
      let j = 1;
      let v = 0;
      while (j < 4 && isDigit(line.charCodeAt(j))) v = v * 10 + line.charCodeAt(j++) - 48;
      if (j === 1 || line.charCodeAt(j) !== 62 || v > 191) return parseFailure("not_syslog", NOT_SYSLOG_MESSAGE);
      priority = v;
      i = j + 1;
    }
    let ts: number;
    let p: number; // index after the timestamp
    const mo = monthAt(line, i);
    if (mo !== 0) {
      // "Mmm dd HH:MM:SS " with the day space- or zero-padded (or unpadded).
      if (line.charCodeAt(i + 3) !== 32) return parseFailure("not_syslog", NOT_SYSLOG_MESSAGE);
      let j = i + 4;
      if (line.charCodeAt(j) === 32) j++;
      let d = -1;
      if (isDigit(line.charCodeAt(j))) {
        d = line.charCodeAt(j++) - 48;
        if (isDigit(line.charCodeAt(j))) d = d * 10 + line.charCodeAt(j++) - 48;
      }
      if (d < 0 || line.charCodeAt(j) !== 32) return parseFailure("not_syslog", NOT_SYSLOG_MESSAGE);
      j++;
      const h = two(line, j);
      const mi = two(line, j + 3);
      const s = two(line, j + 6);
      if (h < 0 || mi < 0 || s < 0 || line.charCodeAt(j + 2) !== 58 || line.charCodeAt(j + 5) !== 58) {
        return parseFailure("not_syslog", NOT_SYSLOG_MESSAGE);
      }
      p = j + 8;
      if (p < line.length && line.charCodeAt(p) !== 32) return parseFailure("not_syslog", NOT_SYSLOG_MESSAGE);
      if (d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
        return parseFailure("bad_timestamp", `bad syslog timestamp "${line.slice(i, p)}": day, hour, minute or second out of range`);
      }
      const r = resolve(mo, d, h * HOUR + mi * MINUTE + s * SECOND, line, i, p);
      if (typeof r !== "number") return r;
      ts = r;
    } else if (isDigit(line.charCodeAt(i))) {
      let sp = line.indexOf(" ", i);
      if (sp < 0) sp = line.length;
      const text = line.slice(i, sp);
      if (!RFC3339_DATE.test(text)) return parseFailure("not_syslog", NOT_SYSLOG_MESSAGE);
      const r = parseEventTime(text);
      if (r === undefined) return parseFailure("bad_timestamp", `bad RFC 3339 timestamp "${text.slice(0, 64)}"`);
      // The UTC year is within one of the written year (guards the 2-digit-year mapping of Date.UTC too).
      if (r < MIN_TS || r > MAX_TS || Math.abs(new Date(r).getUTCFullYear() - Number(text.slice(0, 4))) > 1) {
        return parseFailure("bad_timestamp", `timestamp "${text.slice(0, 64)}" is outside years 0000–9999 in UTC`);
      }
      ts = r;
      p = sp;
    } else {
      return parseFailure("not_syslog", NOT_SYSLOG_MESSAGE);
    }

    // Host: the next space-delimited token.
    const n = line.length;
    while (p < n && line.charCodeAt(p) === 32) p++;
    const hostEnd = indexOfSpace(line, p);
    if (hostEnd === p) return parseFailure("not_syslog", `${NOT_SYSLOG_MESSAGE}; no host name after the timestamp`);
    const host = hostEnd - p === lastHost.length && line.startsWith(lastHost, p) ? lastHost : (lastHost = line.slice(p, hostEnd));
    p = hostEnd;
    while (p < n && line.charCodeAt(p) === 32) p++;

    // Tag: prog[(sub)][[pid]]: — else no tag, the rest is the message.
    let program: string | undefined;
    let subsystem: string | undefined;
    let pid: number | undefined;
    let msgStart = p;
    let k = p;
    const kMax = Math.min(n, p + MAX_TAG);
    let c = 0;
    while (k < kMax && (c = line.charCodeAt(k)) !== 32 && c !== 91 && c !== 40 && c !== 58 && c !== 9) k++;
    if (k > p && k < n) {
      const nameEnd = k;
      let ok = true;
      let sub: string | undefined;
      let pidv: number | undefined;
      if (c === 40) {
        const close = line.indexOf(")", k + 1);
        if (close < 0 || close - k > MAX_TAG || hasSpace(line, k + 1, close)) ok = false;
        else {
          sub = line.slice(k + 1, close);
          k = close + 1;
          c = line.charCodeAt(k);
        }
      }
      if (ok && c === 91) {
        let j = k + 1;
        let v = 0;
        while (j < n && j - k <= 10 && isDigit(line.charCodeAt(j))) v = v * 10 + line.charCodeAt(j++) - 48;
        if (j === k + 1 || line.charCodeAt(j) !== 93) ok = false;
        else {
          pidv = v;
          k = j + 1;
          c = line.charCodeAt(k);
        }
      }
      if (ok && c === 58) {
        program = nameEnd - p === lastProgram.length && line.startsWith(lastProgram, p) ? lastProgram : (lastProgram = line.slice(p, nameEnd));
        subsystem = sub;
        pid = pidv;
        msgStart = line.charCodeAt(k + 1) === 32 ? k + 2 : k + 1;
      }
    }
    into.ts = ts;
    into.timestamp = iso(ts);
    into.host = host;
    into.program = program;
    into.subsystem = subsystem;
    into.pid = pid;
    into.priority = priority;
    into.message = line.slice(msgStart);
    return undefined;
  }

  function parse(line: string): SyslogRecord | ParseFailure {
    const rec = new MutableSyslogRecord();
    return parseInto(line, rec) ?? rec;
  }

  return { parse, parseInto };
}

function indexOfSpace(s: string, from: number): number {
  const n = s.length;
  let i = from;
  while (i < n && s.charCodeAt(i) !== 32) i++;
  return i;
}

function hasSpace(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 32) return true;
  return false;
}
