/**
 * A reference interpreter for conditions: it walks the syntax tree on every call, resolving
 * macros, lists and parameters from a plain environment, with the language's semantics
 * written out as plainly as possible (README "The rule language", compile/values.ts).
 *
 * It is slow on purpose and shares no code with the compiled closures (compile/conditions.ts),
 * the glob compiler or the list tries: it is the oracle those are tested against
 * (dsl/interpret.test.ts). Where the README leaves a detail open, the comment says which
 * reading is taken.
 */
import RE2 from "re2";
import type * as A from "./ast.js";
import type { EventFields } from "./fields.js";
import { FUNCTIONS } from "./functions.js";
import { cidrContains, parseCidr, parseIp } from "./ip.js";
import { parseEventTime } from "./time.js";
import { isPresent, scalarEquals, scalarOrder } from "./compile/values.js";

/** Everything names resolve against: macro bodies, list items as written, parameter values. */
export interface InterpretEnv {
  readonly macros: ReadonlyMap<string, A.Expr>;
  /** Items of each declared list (inline literals, durations in ms, or the lines of its file). */
  readonly lists: ReadonlyMap<string, readonly A.LiteralValue[]>;
  /** Parameter values (durations in ms). */
  readonly params: ReadonlyMap<string, A.LiteralValue>;
  /** IANA zone of the time functions; UTC when absent. */
  readonly timezone?: string;
}

/* ---------------------------------------------------------------- fields */

/** Splits `a."b.c".d` into ["a", "b.c", "d"]: a double quote opens or closes a segment. */
export function splitPath(path: string): string[] {
  const segs: string[] = [];
  let cur = "";
  let inQuotes = false;
  for (const ch of path) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (ch === "." && !inQuotes) {
      segs.push(cur);
      cur = "";
    } else cur += ch;
  }
  segs.push(cur);
  return segs;
}

/** An own property of a plain (non-array) object; inherited members are never fields. */
function ownProperty(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return undefined;
  return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/**
 * Reads a field: nested objects and flat dotted keys alike. The README does not say which
 * wins when an event has both forms with different values; this takes the order of
 * fields.ts: the whole path as one flat key first, then, at each level, the shortest dotted
 * key that leads to a value.
 */
export function readField(event: EventFields, path: string): unknown {
  const segs = splitPath(path);
  const flat = ownProperty(event, segs.join("."));
  if (flat !== undefined) return flat;
  return readNested(event, segs);
}

function readNested(obj: unknown, segs: readonly string[]): unknown {
  if (segs.length === 0) return obj;
  for (let take = 1; take <= segs.length; take++) {
    const v = ownProperty(obj, segs.slice(0, take).join("."));
    if (v === undefined) continue;
    const r = readNested(v, segs.slice(take));
    if (r !== undefined) return r;
  }
  return undefined;
}

/* ---------------------------------------------------------------- values */

/** The value of an expression used as a value; undefined for anything that is not one. */
export function valueOf(e: A.Expr, event: EventFields, env: InterpretEnv): unknown {
  switch (e.kind) {
    case "literal":
      return e.value;
    case "duration":
      return e.ms;
    case "param":
      return env.params.get(e.name);
    case "field":
      return readField(event, e.path);
    case "call":
      return callFunction(
        e.name,
        e.args.map((a) => valueOf(a, event, env)),
        env.timezone ?? "UTC",
      );
    default:
      return undefined;
  }
}

/** Applies a string function to a string, or to each element of an array (non-strings give undefined). */
function eachString(v: unknown, f: (s: string) => unknown): unknown {
  if (typeof v === "string") return f(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? f(x) : undefined));
  return undefined;
}

/** Luhn check: 12 to 19 digits once spaces and dashes are taken out, weighted sum divisible by 10. */
export function luhnCheck(text: string): boolean {
  const digits = text.replace(/[ -]/g, "");
  if (!/^[0-9]{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d = d * 2;
      if (d > 9) d = d - 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function hourIn(ms: number, zone: string): number {
  if (zone === "UTC") return new Date(ms).getUTCHours();
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", hourCycle: "h23" }).formatToParts(ms);
  return Number(parts.find((p) => p.type === "hour")?.value) % 24;
}

function callFunction(name: string, args: readonly unknown[], timezone: string): unknown {
  const [v] = args;
  switch (name) {
    case "lower":
      return eachString(v, (s) => s.toLowerCase());
    case "upper":
      return eachString(v, (s) => s.toUpperCase());
    case "len":
      return typeof v === "string" || Array.isArray(v) ? v.length : undefined;
    case "luhn":
      return eachString(v, luhnCheck);
    case "hour_of_day": {
      const ms = parseEventTime(v);
      return ms === undefined ? undefined : hourIn(ms, timezone);
    }
    default: {
      // base64_decode, day_of_week: the catalogue's own definition is the specification.
      const fn = FUNCTIONS.get(name);
      return fn === undefined ? undefined : fn.impl(args, { timezone });
    }
  }
}

/* ---------------------------------------------------------------- conditions */

/** Whether some element of a value (the value itself when it is not an array) passes a test. */
function some(v: unknown, test: (x: unknown) => boolean): boolean {
  return Array.isArray(v) ? v.some(test) : test(v);
}

/** A literal `null`, or a parameter whose value is null: the right side of `f == null`. */
function isNullConstant(e: A.Expr, env: InterpretEnv): boolean {
  return (e.kind === "literal" && e.value === null) || (e.kind === "param" && env.params.get(e.name) === null);
}

/** Evaluates a condition on an event. */
export function evaluate(e: A.Expr, event: EventFields, env: InterpretEnv): boolean {
  switch (e.kind) {
    case "and":
      return evaluate(e.left, event, env) && evaluate(e.right, event, env);
    case "or":
      return evaluate(e.left, event, env) || evaluate(e.right, event, env);
    case "not":
      return !evaluate(e.operand, event, env);
    case "compare":
      return compare(e, event, env);
    case "strmatch":
      return stringMatch(e, event, env);
    case "in":
      return inList(e, event, env);
    case "cidr": {
      const block = valueOf(e.right, event, env);
      const cidr = typeof block === "string" ? parseCidr(block) : undefined;
      if (cidr === undefined) return false;
      return some(valueOf(e.left, event, env), (x) => {
        const addr = typeof x === "string" ? parseIp(x) : undefined;
        return addr !== undefined && cidrContains(cidr, addr);
      });
    }
    case "exists":
      return isPresent(readField(event, e.field.path));
    case "field": {
      const macro = env.macros.get(e.path);
      if (macro !== undefined) return evaluate(macro, event, env);
      // A bare field is a condition when it holds true (any element of an array).
      return some(readField(event, e.path), (x) => x === true);
    }
    case "call":
      // A boolean function (luhn) is a condition when it gives true; on an array field it
      // gives an array, which matches when any element does, as a field would.
      return some(valueOf(e, event, env), (x) => x === true);
    case "literal":
      return e.value === true;
    case "duration":
    case "param":
    case "list":
    case "regex":
      return false;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/**
 * `==`: some element of one side equals some element of the other (numbers and numeric
 * strings as numbers, text with text); a missing field or a null never equals anything,
 * except that `f == null` (a literal null, or a parameter holding null) matches an explicit
 * null. `!=`: both sides present and no pair equal. Orderings: some pair in order.
 */
function compare(e: A.CompareExpr, event: EventFields, env: InterpretEnv): boolean {
  const a = valueOf(e.left, event, env);
  const b = valueOf(e.right, event, env);
  const equal = (x: unknown, y: unknown) => scalarEquals(x, y, e.ci);
  switch (e.op) {
    case "==":
      if (!e.ci && isNullConstant(e.right, env)) return some(a, (x) => x === null);
      if (!e.ci && isNullConstant(e.left, env)) return some(b, (y) => y === null);
      return some(a, (x) => some(b, (y) => equal(x, y)));
    case "!=":
      return isPresent(a) && isPresent(b) && !some(a, (x) => some(b, (y) => equal(x, y)));
    default: {
      const op = e.op;
      return some(a, (x) => some(b, (y) => scalarOrder(x, y, op)));
    }
  }
}

/** Case folding for the `~` operators: both sides lower-cased as whole strings (as `==~`). */
const fold = (s: string, ci: boolean) => (ci ? s.toLowerCase() : s);

/** contains / startswith / endswith / like / matches: text only; any element of an array. */
function stringMatch(e: A.StringMatchExpr, event: EventFields, env: InterpretEnv): boolean {
  const subject = valueOf(e.left, event, env);
  if (e.op === "matches") {
    if (e.right.kind !== "regex") return false;
    const re = new RE2(e.right.pattern, e.right.flags);
    return some(subject, (x) => typeof x === "string" && re.test(x));
  }
  const patterns = valueOf(e.right, event, env);
  return some(patterns, (p) => {
    if (typeof p !== "string") return false;
    return some(subject, (x) => {
      if (typeof x !== "string") return false;
      switch (e.op) {
        case "contains":
          return fold(x, e.ci).includes(fold(p, e.ci));
        case "startswith":
          return fold(x, e.ci).startsWith(fold(p, e.ci));
        case "endswith":
          return fold(x, e.ci).endsWith(fold(p, e.ci));
        default:
          return globMatch(p, x, e.ci);
      }
    });
  });
}

/**
 * `in`: a linear scan of the list. An element is a member when it equals an item (as `==`
 * would, `in~` as `==~`), or when the item is an IP or CIDR block and the element an address
 * inside it. `not in`: the field is present and no element is a member.
 */
function inList(e: A.InExpr, event: EventFields, env: InterpretEnv): boolean {
  let items: readonly A.LiteralValue[] | undefined;
  if (e.set.kind === "list") items = e.set.items.map((i) => valueOf(i, event, env) as A.LiteralValue);
  else if (e.set.kind === "field") items = env.lists.get(e.set.path);
  if (items === undefined) return false;
  const list = items;
  const member = (x: unknown): boolean =>
    list.some((item) => {
      // A null member matches an explicit null, as `x == null` does (not with `in~`, as `==~`).
      if (item === null) return !e.ci && x === null;
      if (scalarEquals(x, item, e.ci)) return true;
      if (typeof item !== "string" || typeof x !== "string") return false;
      const block = parseCidr(item);
      const addr = parseIp(x);
      return block !== undefined && addr !== undefined && cidrContains(block, addr);
    });
  const v = valueOf(e.left, event, env);
  if (e.negated) return isPresent(v) && !some(v, member);
  return some(v, member);
}

/* ---------------------------------------------------------------- glob */

type GlobToken = { readonly kind: "star" } | { readonly kind: "one" } | { readonly kind: "char"; readonly ch: string };

/**
 * `like`: `*` any run of characters, `?` exactly one character (a code point), `\` makes the
 * next character literal; everything else matches itself. `like~` lower-cases the text and
 * each literal character of the pattern. Plain dynamic programming over code points.
 */
export function globMatch(pattern: string, text: string, ci: boolean): boolean {
  const pat = [...pattern];
  const toks: GlobToken[] = [];
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i] as string;
    if (c === "\\" && i + 1 < pat.length) {
      for (const ch of fold(pat[++i] as string, ci)) toks.push({ kind: "char", ch });
    } else if (c === "*") toks.push({ kind: "star" });
    else if (c === "?") toks.push({ kind: "one" });
    else for (const ch of fold(c, ci)) toks.push({ kind: "char", ch });
  }
  const s = [...fold(text, ci)];
  // m[i][j]: the first i tokens match the first j characters.
  const m: boolean[][] = [];
  for (let i = 0; i <= toks.length; i++) m.push(new Array<boolean>(s.length + 1).fill(false));
  (m[0] as boolean[])[0] = true;
  for (let i = 1; i <= toks.length; i++) {
    const t = toks[i - 1] as GlobToken;
    const row = m[i] as boolean[];
    const prev = m[i - 1] as boolean[];
    for (let j = 0; j <= s.length; j++) {
      if (t.kind === "star") row[j] = (prev[j] as boolean) || (j > 0 && (row[j - 1] as boolean));
      else if (j === 0) row[j] = false;
      else row[j] = (prev[j - 1] as boolean) && (t.kind === "one" || t.ch === s[j - 1]);
    }
  }
  return (m[toks.length] as boolean[])[s.length] as boolean;
}
