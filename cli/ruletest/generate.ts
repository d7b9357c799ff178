/**
 * Events from a rule's own conditions, for the property tests: walking the condition's syntax
 * tree, each predicate proposes field values that make it true (or false); `and`/`or`/`not`
 * combine the proposals. Proposals are only candidates: every generated event is checked with
 * the rule's compiled predicate before it is used as a "match" or a "near miss".
 */
import fc from "fast-check";
import type * as A from "../../dsl/ast.js";
import type { CompiledList } from "../../dsl/index.js";

/** Field path → value (undefined: leave the field out). */
export type Assignment = ReadonlyMap<string, unknown>;

export interface GenEnv {
  readonly macros: ReadonlyMap<string, A.Expr>;
  readonly lists: ReadonlyMap<string, CompiledList>;
  readonly params: ReadonlyMap<string, A.LiteralValue>;
}

const EMPTY: Assignment = new Map();
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);

function merge(a: Assignment, b: Assignment): Assignment {
  const m = new Map(a);
  for (const [k, v] of b) m.set(k, v);
  return m;
}

function one(path: string, v: unknown): Assignment {
  return new Map([[path, v]]);
}

/** The field a value expression reads directly (a field, or lower/upper of a field). */
function target(e: A.Expr): { path: string; fold?: "lower" | "upper" } | undefined {
  if (e.kind === "field") return { path: e.path };
  if (e.kind === "call" && (e.name === "lower" || e.name === "upper") && e.args[0]?.kind === "field") return { path: e.args[0].path, fold: e.name };
  return undefined;
}

function constant(e: A.Expr, env: GenEnv): { ok: true; v: unknown } | { ok: false } {
  if (e.kind === "literal") return { ok: true, v: e.value };
  if (e.kind === "duration") return { ok: true, v: e.ms };
  if (e.kind === "param" && env.params.has(e.name)) return { ok: true, v: env.params.get(e.name) };
  return { ok: false };
}

function other(v: unknown): fc.Arbitrary<unknown> {
  if (typeof v === "number") return fc.integer({ min: 1, max: 1000 }).map((d) => v + d);
  return word.map((w) => `${String(v)}~${w}`);
}

/** An address inside a CIDR block (IPv4: random host bits; IPv6: the block's base address). */
export function addressIn(block: string): fc.Arbitrary<string> {
  const [base, bitsText] = block.split("/");
  if (base === undefined) return fc.constant(block);
  if (!base.includes(".")) return fc.constant(base.endsWith("::") ? `${base}1` : base);
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const n = base.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - bits);
  return fc.integer({ min: 0, max: Math.max(0, size - 1) }).map((h) => {
    const x = (n - (n % size)) + h;
    return [24, 16, 8, 0].map((s) => Math.floor(x / 2 ** s) % 256).join(".");
  });
}

function listItems(set: A.Expr, env: GenEnv): unknown[] {
  if (set.kind === "list") return set.items.map((i) => constant(i, env)).filter((c) => c.ok).map((c) => (c as { v: unknown }).v);
  if (set.kind === "field") return [...(env.lists.get(set.path)?.exact ?? [])];
  return [];
}

function member(items: readonly unknown[]): fc.Arbitrary<unknown> {
  if (items.length === 0) return word;
  return fc.constantFrom(...items).chain((v) => (typeof v === "string" && /^[0-9a-f.:]+\/\d+$/i.test(v) ? addressIn(v) : fc.constant(v)));
}

/** A Luhn-valid 16-digit number. */
const luhnNumber = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 15, maxLength: 15 }).map((d) => {
  const digits = [4, ...d.slice(1)];
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let x = digits[digits.length - 1 - i]!;
    if (i % 2 === 0) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
    sum += x;
  }
  return digits.join("") + String((10 - (sum % 10)) % 10);
});

function globSample(pattern: string): fc.Arbitrary<string> {
  const parts = pattern.split(/(\\[*?]|\*|\?)/).filter((p) => p !== "");
  return fc.tuple(...parts.map((p) => (p === "*" ? word : p === "?" ? fc.constantFrom("a", "b", "7") : fc.constant(p.startsWith("\\") ? p.slice(1) : p)))).map((xs) => xs.join(""));
}

function regexSample(r: A.RegexExpr): fc.Arbitrary<string> | undefined {
  try {
    const re = new RegExp(r.pattern, r.flags.replace(/[^ims]/g, ""));
    return fc.stringMatching(re, { size: "xsmall" });
  } catch {
    return undefined; // RE2-only syntax: rely on the rule's examples
  }
}

/** Proposals that make `e` evaluate to `want`. */
export function propose(e: A.Expr, want: boolean, env: GenEnv, depth = 0): fc.Arbitrary<Assignment> {
  if (depth > 40) return fc.constant(EMPTY);
  const rec = (x: A.Expr, w: boolean) => propose(x, w, env, depth + 1);
  switch (e.kind) {
    case "and":
      return want ? fc.tuple(rec(e.left, true), rec(e.right, true)).map(([a, b]) => merge(a, b)) : fc.oneof(rec(e.left, false), rec(e.right, false));
    case "or":
      return want ? fc.oneof(rec(e.left, true), rec(e.right, true)) : fc.tuple(rec(e.left, false), rec(e.right, false)).map(([a, b]) => merge(a, b));
    case "not":
      return rec(e.operand, !want);
    case "field": {
      const macro = env.macros.get(e.path);
      if (macro !== undefined) return rec(macro, want);
      return fc.constant(one(e.path, want));
    }
    case "exists":
      return want ? word.map((w) => one(e.field.path, w)) : fc.constant(one(e.field.path, undefined));
    case "compare": {
      const t = target(e.left);
      if (t === undefined) return fc.constant(EMPTY);
      const r = constant(e.right, env);
      if (!r.ok) {
        const rt = target(e.right);
        if (rt === undefined) return fc.constant(EMPTY);
        const same = (e.op === "==" || e.op === "<=" || e.op === ">=") === want;
        return fc.tuple(fc.constantFrom("XA", "XB", "XC"), fc.constantFrom("XA", "XB", "XC")).filter(([a, b]) => (a === b) === same).map(([a, b]) => merge(one(t.path, a), one(rt.path, b)));
      }
      const v = t.fold === "lower" && typeof r.v === "string" ? r.v : r.v;
      const eq = (e.op === "==") === want;
      if (e.op === "==" || e.op === "!=") {
        if (eq) return fc.constant(one(t.path, v));
        return fc.oneof(other(v).map((x) => one(t.path, x)), fc.constant(one(t.path, undefined)));
      }
      if (typeof v !== "number") return fc.constant(EMPTY);
      const above = (e.op === ">" || e.op === ">=") === want;
      const strict = e.op === ">" || e.op === "<" ? want : !want;
      const d = fc.integer({ min: strict ? 1 : 0, max: Math.max(10, Math.abs(v)) });
      return d.map((x) => one(t.path, above ? v + x : v - x));
    }
    case "strmatch": {
      const t = target(e.left);
      if (t === undefined) return fc.constant(EMPTY);
      if (!want) return fc.oneof(word.map((w) => one(t.path, `zz${w}`)), fc.constant(one(t.path, undefined)));
      if (e.op === "matches" && e.right.kind === "regex") {
        const s = regexSample(e.right);
        return s === undefined ? fc.constant(EMPTY) : s.map((x) => one(t.path, x));
      }
      const r = constant(e.right, env);
      if (!r.ok || typeof r.v !== "string") return fc.constant(EMPTY);
      const lit = r.v;
      if (e.op === "like") return globSample(lit).map((x) => one(t.path, x));
      return fc.tuple(word, word).map(([a, b]) => one(t.path, e.op === "startswith" ? lit + b : e.op === "endswith" ? a + lit : a + lit + b));
    }
    case "in": {
      const t = target(e.left);
      if (t === undefined) return fc.constant(EMPTY);
      const inside = want !== e.negated;
      const items = listItems(e.set, env);
      if (inside) return member(items).map((x) => one(t.path, x));
      return fc.oneof(word.map((w) => one(t.path, `zz-${w}`)), fc.constant(one(t.path, undefined)));
    }
    case "cidr": {
      const t = target(e.left);
      const r = constant(e.right, env);
      if (t === undefined || !r.ok || typeof r.v !== "string") return fc.constant(EMPTY);
      return want ? addressIn(r.v).map((x) => one(t.path, x)) : fc.constant(one(t.path, "192.0.2.250"));
    }
    case "call": {
      const arg = e.args[0];
      if (e.name === "luhn" && arg?.kind === "field") return want ? luhnNumber.map((x) => one(arg.path, x)) : fc.constant(one(arg.path, "1234"));
      return fc.constant(EMPTY);
    }
    default:
      return fc.constant(EMPTY);
  }
}

/** Every field path an expression reads (macros expanded). */
export function fieldsRead(e: A.Expr | undefined, env: Pick<GenEnv, "macros">, out: Set<string>, depth = 0): Set<string> {
  if (e === undefined || depth > 60) return out;
  const rec = (x: A.Expr) => fieldsRead(x, env, out, depth + 1);
  switch (e.kind) {
    case "field": {
      const m = env.macros.get(e.path);
      if (m !== undefined) rec(m);
      else out.add(e.path);
      break;
    }
    case "exists":
      out.add(e.field.path);
      break;
    case "and":
    case "or":
    case "compare":
    case "strmatch":
    case "cidr":
      rec(e.left);
      rec(e.right);
      break;
    case "not":
      rec(e.operand);
      break;
    case "in":
      rec(e.left);
      if (e.set.kind === "list") e.set.items.forEach(rec);
      break;
    case "call":
      e.args.forEach(rec);
      break;
    case "list":
      e.items.forEach(rec);
      break;
    default:
      break;
  }
  return out;
}
