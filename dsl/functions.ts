/** The functions conditions may call; unknown names and wrong arities are compile errors. */
import { parseEventTime } from "./time.js";

/** What functions may depend on besides their arguments. */
export interface FunctionContext {
  /** IANA zone for time functions (`settings { timezone "…" }`); UTC by default. */
  readonly timezone: string;
}

export type FunctionImpl = (args: readonly unknown[], ctx: FunctionContext) => unknown;

export interface FunctionSpec {
  readonly name: string;
  readonly arity: number;
  readonly doc: string;
  readonly returns: "string" | "number" | "boolean";
  readonly impl: FunctionImpl;
}

const mapString =
  (f: (s: string) => unknown): FunctionImpl =>
  ([v]) => {
    if (typeof v === "string") return f(v);
    if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? f(x) : undefined));
    return undefined;
  };

const zoneParts = new Map<string, Intl.DateTimeFormat>();

/** Hour (0–23) and ISO weekday (1 = Monday … 7 = Sunday) of an instant in a zone. */
function localParts(ms: number, zone: string): { hour: number; weekday: number } {
  if (zone === "UTC") {
    const d = new Date(ms);
    return { hour: d.getUTCHours(), weekday: ((d.getUTCDay() + 6) % 7) + 1 };
  }
  let fmt = zoneParts.get(zone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat("en-US", { timeZone: zone, hour: "numeric", hourCycle: "h23", weekday: "short" });
    zoneParts.set(zone, fmt);
  }
  let hour = 0;
  let weekday = 1;
  for (const p of fmt.formatToParts(ms)) {
    if (p.type === "hour") hour = Number(p.value) % 24;
    else if (p.type === "weekday") weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(p.value) + 1;
  }
  return { hour, weekday };
}

const timeFn =
  (pick: (p: { hour: number; weekday: number }) => number): FunctionImpl =>
  ([v], ctx) => {
    const ms = parseEventTime(v);
    return ms === undefined ? undefined : pick(localParts(ms, ctx.timezone));
  };

/** Luhn checksum over the digits of a card number (spaces and dashes allowed), 12–19 digits. */
export function luhn(text: string): boolean {
  let sum = 0;
  let digits = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 45) continue;
    if (c < 48 || c > 57) return false;
    let d = c - 48;
    if (digits % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    digits++;
  }
  return digits >= 12 && digits <= 19 && sum % 10 === 0;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const specs: FunctionSpec[] = [
  { name: "lower", arity: 1, returns: "string", doc: "lower-case a string", impl: mapString((s) => s.toLowerCase()) },
  { name: "upper", arity: 1, returns: "string", doc: "upper-case a string", impl: mapString((s) => s.toUpperCase()) },
  {
    name: "len",
    arity: 1,
    returns: "number",
    doc: "length of a string or an array",
    impl: ([v]) => (typeof v === "string" || Array.isArray(v) ? v.length : undefined),
  },
  { name: "hour_of_day", arity: 1, returns: "number", doc: "hour (0–23) of a time, in the pack's time zone (UTC by default)", impl: timeFn((p) => p.hour) },
  { name: "day_of_week", arity: 1, returns: "number", doc: "ISO weekday (1 = Monday … 7 = Sunday) of a time, in the pack's time zone", impl: timeFn((p) => p.weekday) },
  {
    name: "base64_decode",
    arity: 1,
    returns: "string",
    doc: "decode base64 (standard or URL-safe) to UTF-8 text; missing when the input is not base64",
    impl: mapString((s) => (s.length % 4 !== 1 && BASE64.test(s) ? Buffer.from(s, "base64").toString("utf8") : undefined)),
  },
  { name: "luhn", arity: 1, returns: "boolean", doc: "whether a card number passes the Luhn check (12–19 digits, spaces and dashes allowed)", impl: mapString(luhn) },
];

export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(specs.map((s) => [s.name, s]));
