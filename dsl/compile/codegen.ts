/**
 * Conditions compiled to one generated JavaScript function each (`new Function`), instead of
 * a tree of closures: every field read has its own constant key (`f["event.category"]`) and
 * its own inline cache, the common tests are inline (`v0 === "authentication"`, `typeof v0
 * === "number" ? v0 >= 400 : …`, `k3.has(v0)`, `v1.startsWith("/etc/")`), and a field read
 * several times by a condition is read once where the first read is sure to have happened.
 *
 * Semantics are those of the closures of conditions.ts, which stay the reference: each inline
 * test handles the usual kinds of value (text, number, missing, null) and calls the closure of
 * its own predicate, captured as a constant, for anything else (arrays, objects, booleans).
 * A field path that is not in the event as a flat key is resolved inline when it is there as
 * nested objects, is found missing cheaply (no prefix of it is a key), and otherwise is read
 * by the path's reader of fields.ts.
 *
 * Nothing from the rule text is pasted into the generated code: keys and literals go in
 * through JSON.stringify (strings) or String (finite numbers), everything else (sets, regular
 * expressions, closures, readers) as constants the function captures.
 */
import type * as A from "../ast.js";
import { fieldReader, splitFieldPath } from "../fields.js";
import { FUNCTIONS } from "../functions.js";
import { compileGlob, globShape } from "../glob.js";
import { parseCidr } from "../ip.js";
import { type CompiledRegex, compileRegexObject } from "../regex.js";
import { addressTest } from "./addresses.js";
import { compileCondition, compileValue, FALSE, resolveList, TRUE, type CompileEnv, type Predicate } from "./conditions.js";
import { toNumber } from "./values.js";

/**
 * Conditions whose generated code nests deeper keep the closures: the JS parser recurses on
 * parentheses. Chains of `and` (or of `or`) are written without nesting (`a && b && c`).
 */
const MAX_NESTING = 100;
/** Conditions deeper than this (macros expanded) keep the closures. */
const MAX_DEPTH = 2000;
/**
 * Larger generated functions keep the closures (a guard on memory: macros can expand a
 * condition a lot). V8 still optimises generated functions of a few hundred tests.
 */
const MAX_SOURCE = 500_000;

/**
 * Compiles a condition to a predicate: a generated function, or the closures of
 * conditions.ts when the condition is too deep or large, or code generation is not allowed.
 */
export function compilePredicate(e: A.Expr, env: CompileEnv): Predicate {
  return generated(e, env) ?? compileCondition(e, env);
}

/** `when W except X except Y…`: W and not (X or Y …), as one function. */
export function compileMatch(when: A.Expr, excepts: readonly A.Expr[], env: CompileEnv): Predicate {
  if (excepts.length === 0) return compilePredicate(when, env);
  const [first, ...rest] = excepts as [A.Expr, ...A.Expr[]];
  const any = rest.reduce<A.Expr>((l, r) => ({ kind: "or", left: l, right: r, span: r.span }), first);
  return compilePredicate({ kind: "and", left: when, right: { kind: "not", operand: any, span: any.span }, span: when.span }, env);
}

const GENERATED = new WeakSet<Predicate>();

/** Whether a predicate is a generated function (for tests). */
export function isGenerated(p: Predicate): boolean {
  return GENERATED.has(p);
}

class TooLarge extends Error {}

/**
 * A pattern compiled on its first test: a pack's patterns (checked when it loaded) cost
 * nothing until an event reaches them, e.g. the web rules' over an SSH log, and a condition
 * compiled more than once (a rule's `relevant`) compiles them once.
 */
function lazyRegex(pattern: string, flags: string): CompiledRegex {
  let re: CompiledRegex | undefined;
  return { test: (text) => (re ??= compileRegexObject(pattern, flags)).test(text) };
}

function generated(e: A.Expr, env: CompileEnv): Predicate | undefined {
  let body: string;
  const g = new Gen(env);
  try {
    const out = g.cond(e, new Set(), 0);
    if (out.nest > MAX_NESTING) return undefined;
    body = out.code;
  } catch (err) {
    // Too large, or too deep for the stack left here: the closures.
    if (err instanceof TooLarge || err instanceof RangeError) return undefined;
    throw err;
  }
  if (body === "true") return TRUE;
  if (body === "false") return FALSE;
  const locals = [...g.locals];
  const src =
    `"use strict";\n` +
    g.consts.map((_, i) => `const k${i} = K[${i}];\n`).join("") +
    `return function match(f) {\n` +
    (locals.length > 0 ? `  let ${locals.join(", ")};\n` : "") +
    `  return ${body};\n};\n`;
  if (src.length > MAX_SOURCE) return undefined;
  let fn: Predicate;
  try {
    // The source is built from the generator's own fragments, JSON-encoded strings and
    // numbers; every other value is passed in through K.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const make = new Function("K", src) as (k: readonly unknown[]) => Predicate;
    fn = make(g.consts);
  } catch (err) {
    // Code generation from strings disallowed (--disallow-code-generation-from-strings), or
    // a parser limit: the closures.
    if (err instanceof EvalError || err instanceof RangeError) return undefined;
    throw err;
  }
  GENERATED.add(fn);
  return fn;
}

/** Generated code of a condition, and the field variables sure to be assigned once it has run. */
interface Out {
  readonly code: string;
  readonly reads: ReadonlySet<string>;
  /** The code is a chain of this operator, without parentheses around it. */
  readonly op?: "&&" | "||";
  /** Nesting of parentheses in the code. */
  readonly nest: number;
}

const NONE: ReadonlySet<string> = new Set();
const TRUE_OUT: Out = { code: "true", reads: NONE, nest: 0 };
const FALSE_OUT: Out = { code: "false", reads: NONE, nest: 0 };
/** Nesting of an inline test's own parentheses. */
const LEAF_NEST = 4;

/** `a && b` (or `||`): chains of the same operator stay flat, others are parenthesised. */
function chain(op: "&&" | "||", l: Out, r: Out, reads: ReadonlySet<string>): Out {
  const part = (o: Out) => (o.op === undefined || o.op === op ? { code: o.code, nest: o.nest } : { code: `(${o.code})`, nest: o.nest + 1 });
  const a = part(l);
  const b = part(r);
  if (a.code.length + b.code.length > MAX_SOURCE) throw new TooLarge();
  return { code: `${a.code} ${op} ${b.code}`, reads, op, nest: Math.max(a.nest, b.nest) };
}

/**
 * What an inline test does with the value it reads: `str` and `num` give code for a text or a
 * number (the closure when absent), `missing` and `nul` the answer for undefined and null.
 * Anything else (arrays, objects, booleans) goes to the closure.
 */
interface Leaf {
  readonly str?: (s: string) => string;
  readonly num?: (n: string) => string;
  readonly missing: boolean;
  readonly nul: boolean;
  /** Test for a number first (numeric comparisons). */
  readonly numFirst?: boolean;
}

/** The value a test applies to: a field, or lower/upper/len of one, or another non-constant value. */
interface Subject {
  /** Variable key: the same key holds the same value during one call; undefined: not shared. */
  readonly key: string | undefined;
  /** Code reading the value. */
  readonly read: string;
  readonly transform: "id" | "lower" | "upper" | "len";
}

const str = (s: string): string => JSON.stringify(s);
const flipOp = (op: A.CompareOp): A.CompareOp => (op === "<" ? ">" : op === ">" ? "<" : op === "<=" ? ">=" : op === ">=" ? "<=" : op);
const ordering = (op: A.CompareOp): op is "<" | "<=" | ">" | ">=" => op === "<" || op === "<=" || op === ">" || op === ">=";

class Gen {
  readonly consts: unknown[] = [];
  private readonly constNames = new Map<unknown, string>();
  /** Variable per field key. */
  private readonly vars = new Map<string, string>();
  readonly locals = new Set<string>();
  private fresh = 0;

  constructor(private readonly env: CompileEnv) {}

  /** A captured constant. */
  k(v: unknown): string {
    let name = this.constNames.get(v);
    if (name === undefined) {
      name = `k${this.consts.length}`;
      this.consts.push(v);
      this.constNames.set(v, name);
    }
    return name;
  }

  /** A number as code: finite numbers as literals, others (and -0) as constants. */
  num(n: number): string {
    if (!Number.isFinite(n) || Object.is(n, -0)) return this.k(n);
    return n < 0 ? `(${String(n)})` : String(n);
  }

  private local(name: string): string {
    this.locals.add(name);
    return name;
  }

  private varFor(key: string | undefined): string {
    if (key === undefined) return this.local(`w${this.fresh++}`);
    let v = this.vars.get(key);
    if (v === undefined) {
      v = this.local(`v${this.vars.size}`);
      this.vars.set(key, v);
    }
    return v;
  }

  /** The closure of a condition, as a call, or its constant. */
  private fallback(p: Predicate): string {
    if (p === TRUE) return "true";
    if (p === FALSE) return "false";
    return `${this.k(p)}(f)`;
  }

  cond(e: A.Expr, avail: ReadonlySet<string>, depth: number): Out {
    if (depth > MAX_DEPTH) throw new TooLarge();
    switch (e.kind) {
      case "and": {
        const l = this.cond(e.left, avail, depth + 1);
        if (l.code === "false") return FALSE_OUT;
        const r = this.cond(e.right, union(avail, l.reads), depth + 1);
        if (r.code === "false") return FALSE_OUT;
        if (l.code === "true") return r;
        if (r.code === "true") return l;
        return chain("&&", l, r, l.reads);
      }
      case "or": {
        const l = this.cond(e.left, avail, depth + 1);
        if (l.code === "true") return TRUE_OUT;
        const r = this.cond(e.right, union(avail, l.reads), depth + 1);
        if (r.code === "true") return TRUE_OUT;
        if (l.code === "false") return r;
        if (r.code === "false") return l;
        return chain("||", l, r, l.reads);
      }
      case "not": {
        const o = this.cond(e.operand, avail, depth + 1);
        if (o.code === "true") return FALSE_OUT;
        if (o.code === "false") return TRUE_OUT;
        return o.op === undefined ? { code: `!${o.code}`, reads: o.reads, nest: o.nest } : { code: `!(${o.code})`, reads: o.reads, nest: o.nest + 1 };
      }
      case "field": {
        const macro = this.env.macros.get(e.path);
        if (macro !== undefined) return this.cond(macro, avail, depth + 1);
        const p = this.lazy(e);
        const s = this.subject(e);
        if (s === undefined) return this.leafFallback(compileCondition(e, this.env));
        // A bare field holds when it is true (any element of an array).
        const { v, first } = this.value(s, avail);
        return { code: `(${first} === true || Array.isArray(${v}) && ${this.fallback(p)})`, reads: keys(s), nest: LEAF_NEST };
      }
      case "exists": {
        // `exists` reads the event's own field, never a sequence step's (as the closure does).
        const s: Subject = { key: `f:${e.field.path}`, read: this.read(e.field.path), transform: "id" };
        const { v, first } = this.value(s, avail);
        return { code: `(${first} !== undefined && ${v} !== null && !(Array.isArray(${v}) && ${v}.length === 0))`, reads: keys(s), nest: LEAF_NEST };
      }
      case "literal":
        return e.value === true ? TRUE_OUT : FALSE_OUT;
      case "compare":
        return this.compare(e, avail);
      case "strmatch":
        return this.strmatch(e, avail);
      case "in":
        return this.inList(e, avail);
      case "cidr":
        return this.cidr(e, avail);
      case "call":
      case "duration":
      case "param":
      case "list":
      case "regex":
        return this.leafFallback(compileCondition(e, this.env));
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  /**
   * The closure of a predicate, compiled on its first call: most never see a value the inline
   * code leaves to them. Only for predicates that do not fold to a constant.
   */
  private lazy(e: A.Expr): Predicate {
    const env = this.env;
    let p: Predicate | undefined;
    return (f) => (p ??= compileCondition(e, env))(f);
  }

  /** The closure of a predicate that may fold to a constant, compiled now. */
  private eager(e: A.Expr): Out {
    return this.leafFallback(compileCondition(e, this.env));
  }

  private leafFallback(p: Predicate): Out {
    const code = this.fallback(p);
    return code === "true" ? TRUE_OUT : code === "false" ? FALSE_OUT : { code, reads: NONE, nest: 1 };
  }

  /** The subject of a test, or undefined when it is a constant. */
  private subject(e: A.Expr): Subject | undefined {
    if (e.kind === "call" && e.args.length === 1 && (e.name === "lower" || e.name === "upper" || e.name === "len")) {
      const arg = e.args[0] as A.Expr;
      const inner = arg.kind === "field" ? this.subject(arg) : undefined;
      if (inner !== undefined && inner.transform === "id") return { ...inner, transform: e.name };
    }
    if (e.kind === "field") {
      const dot = e.path.indexOf(".");
      const step = dot > 0 ? this.env.steps?.index.get(e.path.slice(0, dot)) : undefined;
      // A field of the event, unless it names a sequence step's (as compileValue resolves it).
      if (step === undefined) return { key: `f:${e.path}`, read: this.read(e.path), transform: "id" };
    }
    const v = compileValue(e, this.env);
    if (v.constant) return undefined;
    // A sequence step's field (`fail.user.name`) through its getter, which reads the step's
    // event; any other value (a function call) through its getter.
    return { key: e.kind === "field" ? `s:${e.path}` : undefined, read: `${this.k(v.get)}(f)`, transform: "id" };
  }

  private readonly reads = new Map<string, string>();

  /** Code reading a field path, with the semantics of fieldReader. */
  private read(path: string): string {
    let code = this.reads.get(path);
    if (code === undefined) {
      code = this.readCode(path);
      this.reads.set(path, code);
    }
    return code;
  }

  private readCode(path: string): string {
    const segs = splitFieldPath(path);
    const flat = segs.join(".");
    // `__proto__` is only a field as an own property: the reader checks.
    if (segs.includes("__proto__")) return `${this.k(fieldReader(path))}(f)`;
    const t = this.local("t");
    if (segs.length === 1) return `(typeof (${t} = f[${str(flat)}]) === "function" ? undefined : ${t})`;
    const reader = this.k(fieldReader(path));
    // Not a flat key and the first segment not a key: missing, unless a longer dotted prefix is one.
    const prefixes: string[] = [];
    for (let i = 2; i < segs.length; i++) prefixes.push(segs.slice(0, i).join("."));
    const missing = prefixes.length === 0 ? "undefined" : `(${prefixes.map((p) => `f[${str(p)}] === undefined`).join(" && ")} ? undefined : ${reader}(f))`;
    // Nested objects all the way down: the first path the reader tries.
    const walk = segs
      .slice(1)
      .map((s) => `typeof ${t} === "object" && ${t} !== null && !Array.isArray(${t}) && (${t} = ${t}[${str(s)}]) !== undefined`)
      .join(" && ");
    return (
      `((${t} = f[${str(flat)}]) !== undefined && typeof ${t} !== "function" ? ${t}` +
      ` : (${t} = f[${str(segs[0] as string)}]) === undefined ? ${missing}` +
      ` : ${walk} && typeof ${t} !== "function" ? ${t} : ${reader}(f))`
    );
  }

  /** The variable of a subject, and the code that assigns it (or the variable, when assigned already). */
  private value(s: Subject, avail: ReadonlySet<string>): { v: string; first: string } {
    const v = this.varFor(s.key);
    return { v, first: s.key !== undefined && avail.has(s.key) ? v : `(${v} = ${s.read})` };
  }

  /** An inline test on a subject; `p` is the closure of the whole predicate. */
  private leaf(s: Subject, leaf: Leaf, p: Predicate, avail: ReadonlySet<string>): Out {
    const { v, first } = this.value(s, avail);
    const slow = this.fallback(p);
    let code: string;
    switch (s.transform) {
      case "id": {
        const onStr = leaf.str === undefined ? slow : leaf.str(v);
        const onNum = leaf.num === undefined ? slow : leaf.num(v);
        const rest =
          leaf.missing === leaf.nul
            ? `${v} === undefined || ${v} === null ? ${leaf.missing} : ${slow}`
            : `${v} === undefined ? ${leaf.missing} : ${v} === null ? ${leaf.nul} : ${slow}`;
        code = leaf.numFirst
          ? `(typeof ${first} === "number" ? ${onNum} : typeof ${v} === "string" ? ${onStr} : ${rest})`
          : `(typeof ${first} === "string" ? ${onStr} : typeof ${v} === "number" ? ${onNum} : ${rest})`;
        break;
      }
      case "lower":
      case "upper": {
        // lower(x): text lower-cased, arrays element by element (the closure), anything else missing.
        const u = this.local("u");
        const onStr = leaf.str === undefined ? slow : `(${u} = ${v}.${s.transform === "lower" ? "toLowerCase" : "toUpperCase"}(), ${leaf.str(u)})`;
        code = `(typeof ${first} === "string" ? ${onStr} : Array.isArray(${v}) ? ${slow} : ${leaf.missing})`;
        break;
      }
      case "len": {
        // len(x): the length of a text or an array, missing for anything else.
        const onNum = leaf.num === undefined ? slow : leaf.num(`${v}.length`);
        code = `(typeof ${first} === "string" || Array.isArray(${v}) ? ${onNum} : ${leaf.missing})`;
        break;
      }
    }
    return { code, reads: keys(s), nest: LEAF_NEST };
  }

  private compare(e: A.CompareExpr, avail: ReadonlySet<string>): Out {
    const lc = isConstant(e.left);
    // Two constants fold; two values take the closure.
    if (lc === isConstant(e.right)) return this.eager(e);
    const c = compileValue(lc ? e.left : e.right, this.env);
    const value = c.constant ? c.value : undefined;
    // compileCompare's `specialise`: an undefined constant never compares, null only with ==.
    if (value === undefined || (value === null && (lc ? flipOp(e.op) : e.op) !== "==")) return FALSE_OUT;
    const s = this.subject(lc ? e.right : e.left);
    const spec = this.compareLeaf(value, e.op, e.ci, lc);
    if (s === undefined || spec === undefined) return this.eager(e);
    return this.leaf(s, spec, this.lazy(e), avail);
  }

  /**
   * `subject OP c` (or `c OP subject`), as compileCompare does it: its `specialise` for the
   * shapes it has (with the operator flipped when the constant is on the left), else the
   * general test, in its own orientation.
   */
  private compareLeaf(c: unknown, op: A.CompareOp, ci: boolean, constLeft: boolean): Leaf | undefined {
    const eff = constLeft ? flipOp(op) : op;
    if (c === undefined || c === null) return eff === "==" && c === null ? { str: () => "false", num: () => "false", missing: false, nul: true } : undefined;
    // specialise
    if (eff === "==" && typeof c === "string") {
      const n = toNumber(c);
      const num = Number.isNaN(n) ? () => "false" : (x: string) => `${x} === ${this.num(n)}`;
      const lc = c.toLowerCase();
      return ci ? { str: (s) => `${s}.toLowerCase() === ${str(lc)}`, num, missing: false, nul: false } : { str: (s) => `${s} === ${str(c)}`, num, missing: false, nul: false };
    }
    if (eff === "==" && typeof c === "number") {
      return { str: (s) => `${this.k(toNumber)}(${s}) === ${this.num(c)}`, num: (x) => `${x} === ${this.num(c)}`, missing: false, nul: false, numFirst: true };
    }
    if (ordering(eff) && typeof c === "number") {
      return { str: (s) => `${this.k(toNumber)}(${s}) ${eff} ${this.num(c)}`, num: (x) => `${x} ${eff} ${this.num(c)}`, missing: false, nul: false, numFirst: true };
    }
    // the general test: test(l, r), with c present
    if (op === "!=") {
      if (typeof c === "string") {
        const n = toNumber(c);
        const num = Number.isNaN(n) ? () => "true" : (x: string) => `${x} !== ${this.num(n)}`;
        const lc = c.toLowerCase();
        return ci ? { str: (s) => `${s}.toLowerCase() !== ${str(lc)}`, num, missing: false, nul: false } : { str: (s) => `${s} !== ${str(c)}`, num, missing: false, nul: false };
      }
      if (typeof c === "number") return { str: (s) => `${this.k(toNumber)}(${s}) !== ${this.num(c)}`, num: (x) => `${x} !== ${this.num(c)}`, missing: false, nul: false };
      if (typeof c === "boolean") return { str: () => "true", num: () => "true", missing: false, nul: false };
      return undefined;
    }
    if (op === "==" && typeof c === "boolean") return { str: () => "false", num: () => "false", missing: false, nul: false };
    if (ordering(op) && typeof c === "string") {
      const n = toNumber(c);
      const cs = str(c);
      return {
        str: constLeft ? (s) => `${cs} ${op} ${s}` : (s) => `${s} ${op} ${cs}`,
        num: Number.isNaN(n) ? () => "false" : constLeft ? (x) => `(${this.num(n)} - ${x}) ${op} 0` : (x) => `(${x} - ${this.num(n)}) ${op} 0`,
        missing: false,
        nul: false,
      };
    }
    return undefined;
  }

  private strmatch(e: A.StringMatchExpr, avail: ReadonlySet<string>): Out {
    // compileStrMatch: a constant subject folds, a pattern that is not text never matches.
    if (isConstant(e.left)) return this.eager(e);
    const s = this.subject(e.left);
    if (s === undefined) return this.eager(e);
    const no = () => "false";
    if (e.op === "matches") {
      if (e.right.kind !== "regex") return FALSE_OUT;
      const re = this.k(lazyRegex(e.right.pattern, e.right.flags));
      return this.leaf(s, { str: (x) => `${re}.test(${x})`, num: no, missing: false, nul: false }, this.lazy(e), avail);
    }
    if (!isConstant(e.right)) return this.eager(e);
    const r = compileValue(e.right, this.env);
    if (!r.constant || typeof r.value !== "string") return FALSE_OUT;
    const pattern = r.value;
    const ci = e.ci;
    const fold = (x: string) => (ci ? `${x}.toLowerCase()` : x);
    let test: (x: string) => string;
    if (e.op === "like") {
      const shape = globShape(pattern, ci);
      switch (shape.kind) {
        case "exact":
          test = (x) => `${fold(x)} === ${str(shape.text)}`;
          break;
        case "prefix":
          test = (x) => `${fold(x)}.startsWith(${str(shape.text)})`;
          break;
        case "suffix":
          test = (x) => `${fold(x)}.endsWith(${str(shape.text)})`;
          break;
        case "infix":
          test = (x) => `${fold(x)}.includes(${str(shape.text)})`;
          break;
        default: {
          const m = this.k(compileGlob(pattern, ci));
          test = (x) => `${m}(${x})`;
        }
      }
    } else {
      const method = e.op === "contains" ? "includes" : e.op === "startswith" ? "startsWith" : "endsWith";
      const pat = str(ci ? pattern.toLowerCase() : pattern);
      test = (x) => `${fold(x)}.${method}(${pat})`;
    }
    return this.leaf(s, { str: test, num: no, missing: false, nul: false }, this.lazy(e), avail);
  }

  private inList(e: A.InExpr, avail: ReadonlySet<string>): Out {
    const list = resolveList(e, this.env);
    if (list === undefined) return FALSE_OUT;
    const s = isConstant(e.left) ? undefined : this.subject(e.left);
    if (s === undefined) return this.eager(e);
    const exact = this.k(list.exact);
    const parts: ((x: string) => string)[] = [e.ci ? (x) => `${this.k(list.folded)}.has(${x}.toLowerCase())` : (x) => `${exact}.has(${x})`];
    if (list.numbers.size > 0) {
      const numbers = list.numbers;
      const numeric = (x: string): boolean => {
        const n = toNumber(x);
        return !Number.isNaN(n) && numbers.has(n);
      };
      parts.push((x) => `${this.k(numeric)}(${x})`);
    }
    if (list.addresses !== undefined) {
      const a = this.k(list.addresses);
      parts.push((x) => `${a}(${x})`);
    }
    const member = (x: string) => parts.map((m) => m(x)).join(" || ");
    const spec: Leaf = e.negated
      ? { str: (x) => `!(${member(x)})`, num: (x) => `!${exact}.has(${x})`, missing: false, nul: false }
      : { str: (x) => `(${member(x)})`, num: (x) => `${exact}.has(${x})`, missing: false, nul: !e.ci && list.exact.has(null) };
    return this.leaf(s, spec, this.lazy(e), avail);
  }

  private cidr(e: A.CidrExpr, avail: ReadonlySet<string>): Out {
    // As the closure: the block must be a constant CIDR; a constant subject folds.
    const c = isConstant(e.right) ? compileValue(e.right, this.env) : undefined;
    const block = c?.constant === true && typeof c.value === "string" ? parseCidr(c.value) : undefined;
    if (block === undefined) return FALSE_OUT;
    const s = isConstant(e.left) ? undefined : this.subject(e.left);
    if (s === undefined) return this.eager(e);
    const inside = this.k(addressTest([block]));
    return this.leaf(s, { str: (x) => `${inside}(${x})`, num: () => "false", missing: false, nul: false }, this.lazy(e), avail);
  }
}

/** Whether compileValue gives a constant for an expression (without compiling it). */
function isConstant(e: A.Expr): boolean {
  switch (e.kind) {
    case "field":
      return false;
    case "call":
      return !FUNCTIONS.has(e.name) || e.args.every(isConstant);
    default:
      return true;
  }
}

function keys(s: Subject): ReadonlySet<string> {
  return s.key === undefined ? NONE : new Set([s.key]);
}

function union(a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  return new Set([...a, ...b]);
}

/** For tests: the source generated for a condition (undefined when it keeps the closures). */
export function generatedSource(e: A.Expr, env: CompileEnv): string | undefined {
  const g = new Gen(env);
  try {
    return g.cond(e, new Set(), 0).code;
  } catch (err) {
    if (err instanceof TooLarge) return undefined;
    throw err;
  }
}
