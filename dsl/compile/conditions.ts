import type * as A from "../ast.js";
import { fieldReader, type EventFields } from "../fields.js";
import { FUNCTIONS } from "../functions.js";
import { compileGlob } from "../glob.js";
import { CidrSet, parseCidr, type Cidr } from "../ip.js";
import { compileRegex } from "../regex.js";
import { addressTest, type AddressTest } from "./addresses.js";
import { anyOf, isPresent, scalarEquals, scalarOrder, toNumber } from "./values.js";

export type Predicate = (fields: EventFields) => boolean;
export type Getter = (fields: EventFields) => unknown;

/** A compiled list: exact members, plus a prefix trie when it holds addresses or CIDRs. */
export interface CompiledList {
  readonly name: string;
  /** Members as written, plus numeric twins of numeric strings and vice versa. */
  readonly exact: ReadonlySet<unknown>;
  /** Lower-cased string members, for `in~`. */
  readonly folded: ReadonlySet<string>;
  /** Number members: a numeric string of the event matches them in any spelling ("1.0", " 1"). */
  readonly numbers: ReadonlySet<number>;
  readonly cidrs: CidrSet | undefined;
  /** Whether a text is an address inside one of the list's CIDRs (same answers as `cidrs`, faster). */
  readonly addresses: AddressTest | undefined;
}

export function compileListItems(name: string, items: readonly (string | number | boolean | null)[]): CompiledList {
  const exact = new Set<unknown>();
  const folded = new Set<string>();
  const numbers = new Set<number>();
  let cidrs: CidrSet | undefined;
  const blocks: Cidr[] = [];
  for (const item of items) {
    exact.add(item);
    if (typeof item === "number") {
      exact.add(String(item));
      numbers.add(item);
    }
    if (typeof item === "string") {
      folded.add(item.toLowerCase());
      const n = toNumber(item);
      if (!Number.isNaN(n)) exact.add(n);
      const c = parseCidr(item);
      if (c !== undefined) {
        (cidrs ??= new CidrSet()).add(c);
        blocks.push(c);
      }
    }
  }
  return { name, exact, folded, numbers, cidrs, addresses: blocks.length === 0 ? undefined : addressTest(blocks) };
}

/**
 * The events bound to a sequence's steps so far: the engine fills it before it evaluates a
 * step's condition or a sequence rule's actions, so that `fail.user.name` reads step `fail`.
 */
export interface StepSlot {
  events: readonly (EventFields | undefined)[];
}

/** Everything the compiler resolves names against. */
export interface CompileEnv {
  readonly macros: ReadonlyMap<string, A.Expr>;
  readonly lists: ReadonlyMap<string, CompiledList>;
  readonly params: ReadonlyMap<string, A.LiteralValue>;
  /** IANA zone of the time functions (`settings { timezone "…" }`); UTC when absent. */
  readonly timezone?: string;
  /** Inside a sequence: step names (visible here) → index, and the slot the engine fills. */
  readonly steps?: { readonly index: ReadonlyMap<string, number>; readonly slot: StepSlot };
}

type Compiled = { readonly constant: true; readonly value: unknown } | { readonly constant: false; readonly get: Getter };

/** The predicates of conditions that fold to a constant (compared by identity). */
export const TRUE: Predicate = () => true;
export const FALSE: Predicate = () => false;

/**
 * Compiles a condition to a tree of closures. Field paths, lists, globs and CIDRs are resolved
 * once here. Rules run the generated functions of codegen.ts, which fall back on these
 * closures for the values they do not handle inline.
 */
export function compileCondition(e: A.Expr, env: CompileEnv): Predicate {
  switch (e.kind) {
    case "and": {
      const l = compileCondition(e.left, env);
      const r = compileCondition(e.right, env);
      if (l === FALSE || r === FALSE) return FALSE;
      if (l === TRUE) return r;
      if (r === TRUE) return l;
      return (f) => l(f) && r(f);
    }
    case "or": {
      const l = compileCondition(e.left, env);
      const r = compileCondition(e.right, env);
      if (l === TRUE || r === TRUE) return TRUE;
      if (l === FALSE) return r;
      if (r === FALSE) return l;
      return (f) => l(f) || r(f);
    }
    case "not": {
      const p = compileCondition(e.operand, env);
      if (p === TRUE) return FALSE;
      if (p === FALSE) return TRUE;
      return (f) => !p(f);
    }
    case "compare":
      return compileCompare(e, env);
    case "strmatch":
      return compileStrMatch(e, env);
    case "in":
      return compileIn(e, env);
    case "cidr": {
      const v = compileValue(e.left, env);
      const c = compileValue(e.right, env);
      const cidr = c.constant && typeof c.value === "string" ? parseCidr(c.value) : undefined;
      if (cidr === undefined) return FALSE;
      const inside = addressTest([cidr]);
      const test = (x: unknown) => typeof x === "string" && inside(x);
      if (v.constant) return test(v.value) ? TRUE : FALSE;
      const get = v.get;
      return (f) => anyOf(get(f), test);
    }
    case "exists": {
      const read = fieldReader(e.field.path);
      return (f) => isPresent(read(f));
    }
    case "field": {
      const macro = env.macros.get(e.path);
      if (macro !== undefined) return compileCondition(macro, env);
      const v = compileValue(e, env);
      if (v.constant) return v.value === true ? TRUE : FALSE;
      const read = v.get;
      return (f) => anyOf(read(f), (x) => x === true);
    }
    case "literal":
      return e.value === true ? TRUE : FALSE;
    case "call": {
      const v = compileValue(e, env);
      const holdsTrue = (x: unknown) => x === true;
      if (v.constant) return anyOf(v.value, holdsTrue) ? TRUE : FALSE;
      const get = v.get;
      return (f) => anyOf(get(f), holdsTrue);
    }
    case "duration":
    case "param":
    case "list":
    case "regex":
      return FALSE; // rejected by the checker
    default: {
      const never: never = e;
      return never;
    }
  }
}

export function compileValue(e: A.Expr, env: CompileEnv): Compiled {
  switch (e.kind) {
    case "literal":
      return { constant: true, value: e.value };
    case "duration":
      return { constant: true, value: e.ms };
    case "param":
      return { constant: true, value: env.params.get(e.name) };
    case "field": {
      const dot = e.path.indexOf(".");
      const step = dot > 0 ? env.steps?.index.get(e.path.slice(0, dot)) : undefined;
      if (step !== undefined && env.steps !== undefined) {
        const slot = env.steps.slot;
        const read = fieldReader(e.path.slice(dot + 1));
        return { constant: false, get: () => {
          const ev = slot.events[step];
          return ev === undefined ? undefined : read(ev);
        } };
      }
      return { constant: false, get: fieldReader(e.path) };
    }
    case "call": {
      const fn = FUNCTIONS.get(e.name);
      const args = e.args.map((a) => compileValue(a, env));
      if (fn === undefined) return { constant: true, value: undefined };
      const ctx = { timezone: env.timezone ?? "UTC" };
      if (args.every((a) => a.constant)) return { constant: true, value: fn.impl(args.map((a) => (a.constant ? a.value : undefined)), ctx) };
      if (args.length === 1) {
        const a0 = args[0] as Compiled;
        const get = a0.constant ? () => a0.value : a0.get;
        const impl = fn.impl;
        return { constant: false, get: (f) => impl([get(f)], ctx) };
      }
      const gets = args.map((a) => (a.constant ? () => a.value : a.get));
      return { constant: false, get: (f) => fn.impl(gets.map((g) => g(f)), ctx) };
    }
    default:
      return { constant: true, value: undefined }; // conditions as values: rejected by the checker
  }
}

function compileCompare(e: A.CompareExpr, env: CompileEnv): Predicate {
  const l = compileValue(e.left, env);
  const r = compileValue(e.right, env);
  const { op, ci } = e;
  const test = (a: unknown, b: unknown): boolean => {
    if (op === "==") return anyOf(a, (x) => anyOf(b, (y) => scalarEquals(x, y, ci)));
    if (op === "!=") return isPresent(a) && isPresent(b) && !anyOf(a, (x) => anyOf(b, (y) => scalarEquals(x, y, ci)));
    return anyOf(a, (x) => anyOf(b, (y) => scalarOrder(x, y, op)));
  };
  if (l.constant && r.constant) {
    // `$unset == null`: a null constant matches an explicit null, as `f == null` does.
    if (op === "==" && !ci && (l.value === null || r.value === null)) return anyOf(l.value === null ? r.value : l.value, (x) => x === null) ? TRUE : FALSE;
    return test(l.value, r.value) ? TRUE : FALSE;
  }
  if (!l.constant && r.constant) return specialise(l.get, r.value, op, ci) ?? ((f) => test(l.get(f), r.value));
  if (l.constant && !r.constant) {
    const flipped = op === "<" ? ">" : op === ">" ? "<" : op === "<=" ? ">=" : op === ">=" ? "<=" : op;
    return specialise(r.get, l.value, flipped, ci) ?? ((f) => test(l.value, r.get(f)));
  }
  const lg = (l as { get: Getter }).get;
  const rg = (r as { get: Getter }).get;
  return (f) => test(lg(f), rg(f));
}

/** Fast closures for the common `field OP constant` shapes. */
function specialise(get: Getter, c: unknown, op: A.CompareOp, ci: boolean): Predicate | undefined {
  if (c === undefined) return FALSE;
  if (op === "==" && c === null) return (f) => anyOf(get(f), (x) => x === null);
  if (c === null) return FALSE;
  if (op === "==" && typeof c === "string" && !ci) {
    const num = toNumber(c);
    const numeric = !Number.isNaN(num);
    return (f) => {
      const v = get(f);
      if (v === c) return true;
      if (typeof v === "string" || v === undefined || v === null) return false;
      if (typeof v === "number") return numeric && v === num;
      return Array.isArray(v) && v.some((x) => scalarEquals(x, c, false));
    };
  }
  if (op === "==" && typeof c === "string" && ci) {
    const lc = c.toLowerCase();
    return (f) => {
      const v = get(f);
      if (typeof v === "string") return v.toLowerCase() === lc;
      return anyOf(v, (x) => scalarEquals(x, c, true));
    };
  }
  if (op === "==" && typeof c === "number") {
    return (f) => {
      const v = get(f);
      if (v === c) return true;
      if (v === undefined || v === null) return false;
      return anyOf(v, (x) => scalarEquals(x, c, false));
    };
  }
  if ((op === ">" || op === ">=" || op === "<" || op === "<=") && typeof c === "number") {
    const cmp =
      op === ">" ? (x: number) => x > c : op === ">=" ? (x: number) => x >= c : op === "<" ? (x: number) => x < c : (x: number) => x <= c;
    return (f) => {
      const v = get(f);
      if (typeof v === "number") return cmp(v);
      if (v === undefined || v === null) return false;
      return anyOf(v, (x) => {
        if (typeof x === "boolean") return false;
        const n = toNumber(x);
        return !Number.isNaN(n) && cmp(n);
      });
    };
  }
  return undefined;
}

function compileStrMatch(e: A.StringMatchExpr, env: CompileEnv): Predicate {
  if (e.op === "matches") {
    if (e.right.kind !== "regex") return FALSE;
    const re = compileRegex(e.right.pattern, e.right.flags);
    const test = (x: unknown) => typeof x === "string" && re(x);
    const lv = compileValue(e.left, env);
    if (lv.constant) return anyOf(lv.value, test) ? TRUE : FALSE;
    const get = lv.get;
    return (f) => anyOf(get(f), test);
  }
  const l = compileValue(e.left, env);
  const r = compileValue(e.right, env);
  const ci = e.ci;
  const op = e.op;
  const fold = (s: string) => (ci ? s.toLowerCase() : s);
  const scalar = (x: unknown, pat: string): boolean => {
    if (typeof x !== "string") return false;
    const s = fold(x);
    return op === "contains" ? s.includes(pat) : op === "startswith" ? s.startsWith(pat) : s.endsWith(pat);
  };
  if (r.constant) {
    if (typeof r.value !== "string") return FALSE;
    const pattern = r.value;
    let test: (x: unknown) => boolean;
    if (op === "like") {
      const m = compileGlob(pattern, ci);
      test = (x) => typeof x === "string" && m(x);
    } else {
      const pat = fold(pattern);
      test = (x) => scalar(x, pat);
    }
    if (l.constant) return anyOf(l.value, test) ? TRUE : FALSE;
    const get = l.get;
    return (f) => anyOf(get(f), test);
  }
  const rg = r.get;
  const lg = l.constant ? () => l.value : l.get;
  return (f) => {
    const a = lg(f);
    return anyOf(rg(f), (p) => typeof p === "string" && anyOf(a, (x) => scalar(x, fold(p))));
  };
}

/** The list an `in` tests against: an inline list compiled here, or a declared one. */
export function resolveList(e: A.InExpr, env: CompileEnv): CompiledList | undefined {
  return e.set.kind === "list"
      ? compileListItems(
          "(inline)",
          e.set.items.map((i) => {
            const v = compileValue(i, env);
            return (v.constant ? v.value : undefined) as string | number | boolean | null;
          }),
        )
    : env.lists.get(e.set.kind === "field" ? e.set.path : "");
}

function compileIn(e: A.InExpr, env: CompileEnv): Predicate {
  const list = resolveList(e, env);
  if (list === undefined) return FALSE;
  const { exact, folded, numbers, addresses } = list;
  const ci = e.ci;
  // Membership is `==` (`==~` for in~) against each item: `~` only folds text with text.
  const member = (x: unknown): boolean => {
    if (x === undefined) return false;
    // An explicit null is a member when the list holds null, as `x == null` matches it (not with `in~`, as `==~`).
    if (x === null) return !ci && exact.has(null);
    if (typeof x !== "string") return exact.has(x);
    if (ci ? folded.has(x.toLowerCase()) : exact.has(x)) return true;
    if (numbers.size > 0) {
      const n = toNumber(x);
      if (!Number.isNaN(n) && numbers.has(n)) return true;
    }
    return addresses !== undefined && addresses(x);
  };
  const v = compileValue(e.left, env);
  const get = v.constant ? () => v.value : v.get;
  if (e.negated) {
    return (f) => {
      const x = get(f);
      return isPresent(x) && !anyOf(x, member);
    };
  }
  return (f) => anyOf(get(f), member);
}
