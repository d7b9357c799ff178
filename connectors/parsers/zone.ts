/**
 * Local wall time in an IANA zone → UTC, via Intl.DateTimeFormat, cached per wall-clock hour.
 *
 * Wall times are handled as "epoch milliseconds as if the wall clock were UTC". Across a
 * transition the conversion follows Temporal's "compatible" disambiguation: a wall time that
 * does not exist (spring-forward gap) or exists twice (fall-back overlap) takes the offset in
 * force before the transition, i.e. gap times move forward and repeated times take the earlier
 * instant — what `new Date(y, m, d, …)` does for the host zone.
 */

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Bound on cached hours (about 11 years); the cache restarts when full. */
const MAX_CACHED_HOURS = 100_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1–12); valid for any year. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Days in a month (1–12) of a proleptic Gregorian year. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A wall hour that contains (or touches) a transition: offset `p` before wall time `b`, `q` from it. */
interface TransitionHour {
  readonly b: number;
  readonly p: number;
  readonly q: number;
}

export interface ZoneConverter {
  /** The zone's canonical IANA name as Intl resolved it. */
  readonly zone: string;
  /** UTC epoch ms of a wall time (epoch ms as if the wall clock were UTC). */
  toUtc(wallMs: number): number;
  /** Offset (wall − UTC, in ms) in force at a UTC instant. */
  offsetAt(utcMs: number): number;
}

/**
 * A converter for IANA zone `tz`. Throws RangeError for an unknown zone (a configuration
 * error, reported when the decoder is created, never per line).
 */
export function createZoneConverter(tz: string): ZoneConverter {
  // The default needs no Intl formatter (whose first use loads ICU's zone data: ~10 ms).
  if (tz === "UTC") return { zone: "UTC", toUtc: (w) => w, offsetAt: () => 0 };
  let dtf: Intl.DateTimeFormat;
  try {
    dtf = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  } catch {
    throw new RangeError(`unknown time zone "${tz}": expected an IANA zone name such as "UTC" or "Europe/Berlin"`);
  }
  const zone = dtf.resolvedOptions().timeZone;
  if (zone === "UTC" || zone === "Etc/UTC" || zone === "Etc/GMT" || zone === "GMT") {
    return { zone, toUtc: (w) => w, offsetAt: () => 0 };
  }

  function offsetAt(utcMs: number): number {
    const sec = Math.floor(utcMs / SECOND) * SECOND;
    let y = 0;
    let mo = 1;
    let d = 1;
    let h = 0;
    let mi = 0;
    let s = 0;
    let bc = false;
    for (const part of dtf.formatToParts(sec)) {
      switch (part.type) {
        case "year": y = Number(part.value); break;
        case "month": mo = Number(part.value); break;
        case "day": d = Number(part.value); break;
        case "hour": h = Number(part.value); break;
        case "minute": mi = Number(part.value); break;
        case "second": s = Number(part.value); break;
        case "era": bc = part.value === "BC" || part.value === "B"; break;
        default: break;
      }
    }
    if (bc) y = 1 - y;
    const wall = daysFromCivil(y, mo, d) * DAY + h * HOUR + mi * 60_000 + s * SECOND;
    return wall - sec;
  }

  const cache = new Map<number, number | TransitionHour>();

  function hourEntry(hour: number): number | TransitionHour {
    const w0 = hour * HOUR;
    const p = offsetAt(w0 - DAY);
    const q = offsetAt(w0 + HOUR + DAY);
    if (p === q) return p;
    // Find the transition instant T (first second with the new offset) by bisection.
    let lo = w0 - DAY;
    let hi = w0 + HOUR + DAY;
    while (hi - lo > SECOND) {
      const mid = Math.floor((lo + hi) / 2 / SECOND) * SECOND;
      if (mid <= lo || mid >= hi) break;
      if (offsetAt(mid) === p) lo = mid;
      else hi = mid;
    }
    const after = offsetAt(hi);
    const b = hi + Math.max(p, after);
    if (w0 + HOUR <= b) return p;
    if (w0 >= b) return after;
    return { b, p, q: after };
  }

  let lastHour = Number.NaN;
  let lastOffset = 0;

  function toUtc(wallMs: number): number {
    const hour = Math.floor(wallMs / HOUR);
    if (hour === lastHour) return wallMs - lastOffset;
    let e = cache.get(hour);
    if (e === undefined) {
      if (cache.size >= MAX_CACHED_HOURS) cache.clear();
      e = hourEntry(hour);
      cache.set(hour, e);
    }
    if (typeof e === "number") {
      lastHour = hour;
      lastOffset = e;
      return wallMs - e;
    }
    return wallMs - (wallMs < e.b ? e.p : e.q);
  }

  return { zone, toUtc, offsetAt };
}
