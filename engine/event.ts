/**
 * The event model. Events are ECS documents; a field may be stored nested
 * (`{source: {ip: "…"}}`) or under a flat dotted key (`{"source.ip": "…"}`) and both
 * resolve alike. Parsers in connectors/ produce flat dotted keys (cheapest to read).
 */

/** An ECS document as decoded from JSON or produced by a log parser. */
export type { EventFields } from "../dsl/fields.js";
import type { EventFields } from "../dsl/fields.js";

/** An event as the engine sees it: fields plus what was derived once at decode time. */
export interface EngineEvent {
  /** `event.id`: kept as it arrived, or derived deterministically from source and position. */
  readonly id: string;
  /** Event time (`@timestamp`) in epoch milliseconds. */
  readonly ts: number;
  /**
   * Position in the source (file line, stream sequence): orders events with equal
   * timestamps the same way on every replay or redelivery.
   */
  readonly seq: number;
  readonly fields: EventFields;
  /** Where the event came from, for evidence: `file:line`, `subject#seq`. */
  readonly origin?: string;
}

export { splitFieldPath, getField, fieldReader } from "../dsl/fields.js";

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/;

/**
 * Event time from `@timestamp`: an RFC 3339 string with any offset, or a number of epoch
 * milliseconds. Returns undefined when the value is not a usable time.
 */
export function parseEventTime(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value !== "string") return undefined;
  const m = RFC3339.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as string[];
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const min = Number(mi);
  const sec = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return undefined;
  let ms = Date.UTC(Number(y), month - 1, day, hour, min, sec);
  if (new Date(ms).getUTCDate() !== day) return undefined; // 31 February and the like
  if (frac !== undefined) ms += Math.trunc(Number(`0${frac}`) * 1000);
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const offMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
    ms -= sign * offMin * 60_000;
  }
  return ms;
}
