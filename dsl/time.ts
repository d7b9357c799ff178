/** Event time: RFC 3339 strings with any offset, or epoch milliseconds (language semantics). */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/;

/* Consecutive events often share a timestamp (a log writes many lines a second): one entry of cache. */
let lastText = "";
let lastMs = 0;

/**
 * Event time from `@timestamp`: an RFC 3339 string with any offset, or a number of epoch
 * milliseconds. Returns undefined when the value is not a usable time.
 */
export function parseEventTime(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value !== "string") return undefined;
  if (value === lastText) return lastMs;
  const ms = parseRfc3339(value);
  if (ms !== undefined) {
    lastText = value;
    lastMs = ms;
  }
  return ms;
}

/** Date.UTC that keeps years 0–99 (Date.UTC maps them to 1900–1999). */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  if (y >= 100) return Date.UTC(y, mo, d, h, mi, s);
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo, d);
  dt.setUTCHours(h, mi, s, 0);
  return dt.getTime();
}

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`; a hand-written fast path with the regex as fallback. */
function parseRfc3339(value: string): number | undefined {
  // Fast path: 2024-01-02T03:04:05Z or 2024-01-02T03:04:05.678Z (what Vigil's parsers write)
  const n = value.length;
  if ((n === 20 || n === 24) && value.charCodeAt(4) === 45 && value.charCodeAt(7) === 45 && value.charCodeAt(10) === 84 && value.charCodeAt(n - 1) === 90) {
    const y = digits(value, 0, 4);
    const mo = digits(value, 5, 2);
    const d = digits(value, 8, 2);
    const h = digits(value, 11, 2);
    const mi = digits(value, 14, 2);
    const sec = digits(value, 17, 2);
    const frac = n === 24 && value.charCodeAt(19) === 46 ? digits(value, 20, 3) : n === 20 ? 0 : -1;
    if (y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 60 && frac >= 0) {
      const ms = utc(y, mo - 1, d, h, mi, sec);
      if (new Date(ms).getUTCDate() === d) return ms + frac;
      return undefined;
    }
  }
  const m = RFC3339.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as string[];
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const min = Number(mi);
  const sec = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return undefined;
  let ms = utc(Number(y), month - 1, day, hour, min, sec);
  if (new Date(ms).getUTCDate() !== day) return undefined; // 31 February and the like
  if (frac !== undefined) ms += Math.trunc(Number(`0${frac}`) * 1000);
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digitsOfZone = zone.slice(1).replace(":", "");
    const offMin = Number(digitsOfZone.slice(0, 2)) * 60 + Number(digitsOfZone.slice(2));
    ms -= sign * offMin * 60_000;
  }
  return ms;
}
