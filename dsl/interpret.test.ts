/**
 * Differential tests: conditions compiled to closures (compile/conditions.ts, through
 * loadPack) must agree with the reference interpreter (interpret.ts) on every event.
 * Conditions are generated as syntax trees, printed to rule text, loaded as a one-rule pack
 * and compared with the interpreter walking the generated tree, so the lexer, parser, checker
 * and compiler are all on the path.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type * as A from "./ast.js";
import type { EventFields } from "./fields.js";
import { evaluate, globMatch, type InterpretEnv, luhnCheck, readField, splitPath } from "./interpret.js";
import { loadPack } from "./pack.js";
import type { Span } from "./source.js";

/* ------------------------------------------------------------------ AST builders */

const S: Span = { start: 0, end: 0 };
const lit = (value: A.LiteralValue): A.LiteralExpr => ({ kind: "literal", value, span: S });
const field = (path: string): A.FieldExpr => ({ kind: "field", path, span: S });
const param = (name: string): A.ParamExpr => ({ kind: "param", name, span: S });
const dur = (text: string, ms: number): A.DurationExpr => ({ kind: "duration", ms, text, span: S });
const call = (name: string, args: A.Expr[]): A.CallExpr => ({ kind: "call", name, nameSpan: S, args, span: S });
const list = (items: A.Expr[]): A.ListExpr => ({ kind: "list", items, span: S });

/* ------------------------------------------------------------------ printer (conditions only) */

/** Text of a string literal: the escapes the lexer's `unquote` reads back. */
function printString(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\0") out += "\\0";
    else out += ch;
  }
  return `${out}"`;
}

function printLiteral(v: A.LiteralValue): string {
  if (typeof v === "string") return printString(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v) || /e/i.test(String(Math.abs(v)))) throw new Error(`number ${v} has no literal form`);
    return v < 0 ? `-${String(-v)}` : String(Math.abs(v));
  }
  return String(v);
}

/** Binding levels: 0 anything (or), 1 an operand of `and`, 2 an operand of `not`, 3 a value. */
function printExpr(e: A.Expr, level = 0): string {
  const wrap = (text: string, own: number) => (level > own ? `(${text})` : text);
  switch (e.kind) {
    case "or":
      return wrap(`${printExpr(e.left, 0)} or ${printExpr(e.right, 1)}`, 0);
    case "and":
      return wrap(`${printExpr(e.left, 1)} and ${printExpr(e.right, 2)}`, 1);
    case "not":
      return wrap(`not ${printExpr(e.operand, 2)}`, 2);
    case "compare":
      return wrap(`${printExpr(e.left, 3)} ${e.op}${e.ci ? "~" : ""} ${printExpr(e.right, 3)}`, 2);
    case "strmatch":
      return wrap(`${printExpr(e.left, 3)} ${e.op}${e.ci ? "~" : ""} ${printExpr(e.right, 3)}`, 2);
    case "in":
      return wrap(`${printExpr(e.left, 3)} ${e.negated ? "not in" : "in"}${e.ci ? "~" : ""} ${printExpr(e.set, 3)}`, 2);
    case "cidr":
      return wrap(`${printExpr(e.left, 3)} cidr ${printExpr(e.right, 3)}`, 2);
    case "exists":
      return wrap(`exists ${e.field.path}`, 2);
    case "regex":
      return `/${e.pattern.replace(/\//g, "\\/")}/${e.flags}`;
    case "literal":
      return printLiteral(e.value);
    case "duration":
      return e.text;
    case "field":
      return e.path;
    case "param":
      return `$${e.name}`;
    case "call":
      return `${e.name}(${e.args.map((a) => printExpr(a, 0)).join(", ")})`;
    case "list":
      return `[${e.items.map((a) => printExpr(a, 3)).join(", ")}]`;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/* ------------------------------------------------------------------ pools */

/** Field paths conditions read (AST form: odd segments quoted). */
const PATHS = [
  "a", "b", "n", "msg", "flag", "ts", "@timestamp", "tags", "count",
  "user.name", "user.admin", "source.ip", "source.port", "event.category", "rule.name",
  "a.b", "a.b.c", "b.c", "user.in", 'labels."odd-name"', 'labels."a.b"', "x.y",
];

/** Keys events are built from: plain names, flat dotted keys and odd names, so that paths collide. */
const KEYS = [
  "a", "b", "c", "n", "msg", "flag", "ts", "@timestamp", "tags", "count", "user", "name", "admin",
  "source", "ip", "port", "event", "category", "rule", "labels", "odd-name", "in", "x", "y",
  "a.b", "b.c", "user.name", "source.ip", "event.category", "rule.name", "a.b.c", "x.y",
];

const STRINGS = [
  "", "root", "Root", "ROOT", "admin", "Admin", "administrator", "adm", "x", "abc", "aXXbYYc",
  "a*b", "a?b", "a\\b", "C:\\x\\evil.exe", "22", "22.0", " 22", "1e3", "1000", "-1", "0", "1.5", "0x16",
  "true", "false", "null", "10.1.2.3", "10.0.0.1", "192.0.2.1", "192.0.2.10", "2001:db8::1", "2001:db8:10::5",
  "::ffff:10.1.2.3", "::ffff:192.0.2.1", "gateway.example.com", "not-an-ip", "authentication", "AUTHENTICATION",
  "network", "İ", "i̇", "ß", "SS", "straße", "é", "É", "4111111111111111", "4111 1111 1111 1111",
  "4111-1111-1111-1111", "4111111111111112", "79927398713", "cm9vdA==", "YWRtaW4", "cm9vdA", "!!", "=",
  "2024-01-02T03:04:05Z", "2024-01-02T23:30:00+02:00", "2024-03-31T01:30:00Z", "line\nbreak", "tab\there", "quote\"d",
];
const NUMBERS = [0, 1, -1, 22, 1.5, 1000, 3, 255, 16, 1704164645000];
const TEXT_UNITS = ["a", "A", "b", "B", "d", "m", "*", "?", "\\", ".", "1", "2", " ", "-", "İ", "x"];
const GLOBS = ["adm*", "*.exe", "*.e?e", "a*b*c", "?", "*", "", "\\*", "a\\?b", "*İ*", "A*", "*oo*", "r??t", "**", "a\\", "2*"];
const CIDRS = ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32", "0.0.0.0/0", "::/0", "10.1.2.3", "192.0.2.1/32", "::ffff:10.0.0.0/104", "2001:db8:10::/48"];
const LIST_STRINGS = ["root", "Admin", "22", "1.0", "1e3", "10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "gateway.example.com", "::ffff:192.0.2.0/120", "", "authentication", "İ", "true"];
const FILE_LINES = ["root", "Admin", "22", "10.0.0.0/8", "192.0.2.1", "2001:db8:10::/48", "1e3", "true", "authentication", "adm*"];
const ZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata"];

/** Declared parameters: name → [declaration text, value the checker and interpreter see]. */
const PARAMS: Record<string, [string, A.LiteralValue]> = {
  p_str: ['"root"', "root"],
  p_num: ["22", 22],
  p_bool: ["true", true],
  p_null: ["null", null],
  p_dur: ["5m", 300_000],
  p_cidr: ['"10.0.0.0/8"', "10.0.0.0/8"],
  p_glob: ['"adm*"', "adm*"],
};

/* ------------------------------------------------------------------ generators: events */

const textArb = fc.string({ unit: fc.constantFrom(...TEXT_UNITS), maxLength: 6 });
const scalarArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 1, arbitrary: textArb },
  { weight: 2, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

const { event: eventShapeArb } = fc.letrec<{ value: unknown; event: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    { weight: 5, arbitrary: scalarArb },
    { weight: 2, arbitrary: fc.array(scalarArb, { maxLength: 3 }) },
    { weight: 2, arbitrary: tie("event") },
  ),
  event: fc.dictionary(fc.constantFrom(...KEYS), tie("value"), { maxKeys: 5, noNullPrototype: true }),
}));

/** Noise: JSON documents over a small key vocabulary (nested objects, flat dotted keys, arrays, nulls). */
const noiseArb: fc.Arbitrary<Record<string, unknown>> = eventShapeArb;

/* ------------------------------------------------------------------ generators: conditions */

/** A value expression and the kind the checker gives it. */
type Kind = "string" | "number" | "boolean" | "null" | "duration" | "unknown";
interface Val {
  readonly e: A.Expr;
  readonly k: Kind;
}

const fieldArb = fc.constantFrom(...PATHS).map(field);
const fieldVal: fc.Arbitrary<Val> = fieldArb.map((e) => ({ e, k: "unknown" }));
/** Strings where the coercions and case rules have edges. */
const EDGY_STRINGS = ["22", "22.0", " 22", "1e3", "0", "İ", "Root", "ROOT", "10.0.0.1", "::ffff:10.0.0.1", "true", ""];
const strLitVal: fc.Arbitrary<Val> = fc
  .oneof({ weight: 2, arbitrary: fc.constantFrom(...EDGY_STRINGS) }, { weight: 2, arbitrary: fc.constantFrom(...STRINGS) }, { weight: 1, arbitrary: textArb })
  .map((s) => ({ e: lit(s), k: "string" }));
const numLitVal: fc.Arbitrary<Val> = fc.constantFrom(...NUMBERS).map((n) => ({ e: lit(n), k: "number" }));
const boolLitVal: fc.Arbitrary<Val> = fc.boolean().map((b) => ({ e: lit(b), k: "boolean" }));
const nullLitVal: fc.Arbitrary<Val> = fc.constant({ e: lit(null), k: "null" });
const durVal: fc.Arbitrary<Val> = fc
  .constantFrom<[string, number]>(["500ms", 500], ["30s", 30_000], ["5m", 300_000], ["1h", 3_600_000])
  .map(([t, ms]) => ({ e: dur(t, ms), k: "duration" }));
const paramVal: fc.Arbitrary<Val> = fc.constantFrom(...Object.keys(PARAMS)).map((name) => {
  const v = (PARAMS[name] as [string, A.LiteralValue])[1];
  const k: Kind = name === "p_dur" ? "duration" : v === null ? "null" : (typeof v as Kind);
  return { e: param(name), k };
});

/** Function calls; the argument is mostly a field, sometimes a literal or another call. */
const argArb: fc.Arbitrary<A.Expr> = fc.oneof(
  { weight: 5, arbitrary: fieldArb },
  { weight: 1, arbitrary: fc.constantFrom(...STRINGS, ...NUMBERS).map(lit) },
  { weight: 1, arbitrary: fieldArb.map((f) => call("lower", [f])) },
);
const FUNCTION_KINDS: Record<string, Kind> = { lower: "string", upper: "string", base64_decode: "string", len: "number", hour_of_day: "number", day_of_week: "number", luhn: "boolean" };
const callVal: fc.Arbitrary<Val> = fc
  .tuple(fc.constantFrom(...Object.keys(FUNCTION_KINDS)), argArb)
  .map(([name, a]) => ({ e: call(name, [a]), k: FUNCTION_KINDS[name] as Kind }));

const valueArb: fc.Arbitrary<Val> = fc.oneof(
  { weight: 6, arbitrary: fieldVal },
  { weight: 2, arbitrary: strLitVal },
  { weight: 2, arbitrary: numLitVal },
  { weight: 1, arbitrary: boolLitVal },
  { weight: 2, arbitrary: nullLitVal },
  { weight: 1, arbitrary: durVal },
  { weight: 2, arbitrary: paramVal },
  { weight: 3, arbitrary: callVal },
);

/** The left side of a predicate: mostly what reads the event. */
const subjectArb: fc.Arbitrary<Val> = fc.oneof(
  { weight: 8, arbitrary: fieldVal },
  { weight: 3, arbitrary: callVal },
  { weight: 1, arbitrary: valueArb },
);

const known = (k: Kind) => k !== "unknown" && k !== "null";
const numeric = (k: Kind) => k === "number" || k === "duration";
const textual = (k: Kind) => k === "unknown" || k === "string";

/** The checker's rules for comparisons (check/expressions.ts), so that generated conditions load. */
function comparable(op: A.CompareOp, ci: boolean, l: Kind, r: Kind): boolean {
  const ordering = op !== "==" && op !== "!=";
  if (ordering && [l, r].some((k) => k === "boolean" || k === "null")) return false;
  if (known(l) && known(r) && l !== r && !(numeric(l) && numeric(r))) return false;
  if (ci && !(textual(l) && textual(r))) return false;
  return true;
}

const compareArb: fc.Arbitrary<A.Expr> = fc
  .record({ op: fc.constantFrom<A.CompareOp>("==", "==", "!=", "<", "<=", ">", ">="), ci: fc.boolean(), l: subjectArb, r: valueArb })
  .map((c) => ({ ...c, ci: c.ci && (c.op === "==" || c.op === "!=") }))
  .filter((c) => comparable(c.op, c.ci, c.l.k, c.r.k))
  .map((c) => ({ kind: "compare", op: c.op, ci: c.ci, left: c.l.e, right: c.r.e, span: S }));

/** The commonest shape, `field OP constant` (the compiler's specialised closures), and null tests. */
const fieldVsConstantArb: fc.Arbitrary<A.Expr> = fc
  .record({
    op: fc.constantFrom<A.CompareOp>("==", "==", "!=", "<", ">=", ">"),
    ci: fc.boolean(),
    f: fieldVal,
    c: fc.oneof({ weight: 4, arbitrary: strLitVal }, { weight: 2, arbitrary: numLitVal }, boolLitVal, { weight: 2, arbitrary: nullLitVal }, paramVal),
    flip: fc.boolean(),
  })
  .map((c) => ({ ...c, ci: c.ci && (c.op === "==" || c.op === "!=") }))
  .filter((c) => comparable(c.op, c.ci, c.f.k, c.c.k))
  .map((c): A.Expr => {
    const flipped: Record<A.CompareOp, A.CompareOp> = { "==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<=" };
    return c.flip
      ? { kind: "compare", op: flipped[c.op], ci: c.ci, left: c.c.e, right: c.f.e, span: S }
      : { kind: "compare", op: c.op, ci: c.ci, left: c.f.e, right: c.c.e, span: S };
  });

const textVal = valueArb.filter((v) => textual(v.k));
const textSubject = subjectArb.filter((v) => textual(v.k));
const strOpArb: fc.Arbitrary<A.Expr> = fc
  .record({ op: fc.constantFrom<A.StringOp>("contains", "startswith", "endswith"), ci: fc.boolean(), l: textSubject, r: textVal })
  .map((c) => ({ kind: "strmatch", op: c.op, ci: c.ci, left: c.l.e, right: c.r.e, span: S }));

const globArb: fc.Arbitrary<A.Expr> = fc.oneof(
  fc.constantFrom(...GLOBS).map(lit),
  // No İ around wildcards: like~ on it is a known bug of glob.ts (see the tests at the end).
  fc.string({ unit: fc.constantFrom("a", "A", "d", "m", "*", "?", "\\", "x", ".", "2", " "), maxLength: 6 }).map(lit),
  fc.constant(param("p_glob")),
  fc.constant(param("p_str")),
);
const likeArb: fc.Arbitrary<A.Expr> = fc
  .record({ ci: fc.boolean(), l: textSubject, r: globArb })
  // An escaped letter under like~ is a known bug of glob.ts (see the open bugs below).
  .filter((c) => !(c.ci && c.r.kind === "literal" && typeof c.r.value === "string" && /\\\p{L}/u.test(c.r.value)))
  .map((c) => ({ kind: "strmatch", op: "like", ci: c.ci, left: c.l.e, right: c.r, span: S }));

const regexAtom = fc.constantFrom("a", "b", "A", "1", "2", ".", "\\d", "\\w", "[a-c]", "[^a]", "/", "\\.", " ", "İ", "(?:ab)");
const regexSeq = fc
  .array(fc.tuple(regexAtom, fc.constantFrom("", "", "", "*", "+", "?", "{1,2}")), { minLength: 1, maxLength: 4 })
  .map((ps) => ps.map(([a, q]) => a + q).join(""));
const regexArb: fc.Arbitrary<A.RegexExpr> = fc
  .record({
    start: fc.boolean(),
    alts: fc.array(regexSeq, { minLength: 1, maxLength: 2 }),
    end: fc.boolean(),
    flags: fc.subarray(["i", "m", "s"]),
  })
  .map((r) => {
    const body = r.alts.length > 1 && (r.start || r.end) ? `(?:${r.alts.join("|")})` : r.alts.join("|");
    return { kind: "regex", pattern: `${r.start ? "^" : ""}${body}${r.end ? "$" : ""}`, flags: r.flags.join(""), span: S };
  });
const matchesArb: fc.Arbitrary<A.Expr> = fc
  .record({ l: textSubject, r: regexArb })
  .map((c) => ({ kind: "strmatch", op: "matches", ci: false, left: c.l.e, right: c.r, span: S }));

/** Items of inline and declared lists: literals, durations and parameters. */
const listItemArb: fc.Arbitrary<A.Expr> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...LIST_STRINGS, ...CIDRS).map(lit) },
  { weight: 1, arbitrary: fc.constantFrom(...STRINGS).map(lit) },
  { weight: 2, arbitrary: fc.constantFrom(22, 1, 0, -1, 1.5, 1000, 16).map(lit) },
  { weight: 1, arbitrary: fc.constantFrom<A.LiteralValue>(true, false, null).map(lit) },
  { weight: 1, arbitrary: fc.constant(dur("30s", 30_000)) },
  { weight: 1, arbitrary: fc.constantFrom("p_num", "p_str", "p_null", "p_cidr", "p_dur").map(param) },
);
const inArb: fc.Arbitrary<A.Expr> = fc
  .record({
    l: subjectArb,
    set: fc.oneof(fc.array(listItemArb, { maxLength: 4 }).map(list), fc.constantFrom("l_a", "l_file").map(field)),
    negated: fc.boolean(),
    ci: fc.boolean(),
  })
  .map((c) => ({ kind: "in", left: c.l.e, set: c.set, negated: c.negated, ci: c.ci, span: S }));

const cidrArb: fc.Arbitrary<A.Expr> = fc
  .record({ l: subjectArb, r: fc.oneof(fc.constantFrom(...CIDRS).map(lit), fc.constant(param("p_cidr"))) })
  .map((c) => ({ kind: "cidr", left: c.l.e, right: c.r, span: S }));

const existsArb: fc.Arbitrary<A.Expr> = fieldArb.map((f) => ({ kind: "exists", field: f, span: S }));

/** A condition over fields, functions, the pack's lists and parameters, and the given macros. */
function conditionArb(macros: readonly string[]): fc.Arbitrary<A.Expr> {
  const leaves: fc.WeightedArbitrary<A.Expr>[] = [
    { weight: 4, arbitrary: compareArb },
    { weight: 4, arbitrary: fieldVsConstantArb },
    { weight: 2, arbitrary: strOpArb },
    { weight: 2, arbitrary: likeArb },
    { weight: 1, arbitrary: matchesArb },
    { weight: 3, arbitrary: inArb },
    { weight: 2, arbitrary: cidrArb },
    { weight: 1, arbitrary: existsArb },
    { weight: 1, arbitrary: fieldArb },
    { weight: 1, arbitrary: argArb.map((a) => call("luhn", [a])) },
    { weight: 1, arbitrary: fc.boolean().map(lit) },
  ];
  if (macros.length > 0) leaves.push({ weight: 1, arbitrary: fc.constantFrom(...macros).map(field) });
  const leaf = fc.oneof(...leaves);
  const { cond } = fc.letrec<{ cond: A.Expr }>((tie) => ({
    cond: fc.oneof(
      { depthSize: "small", maxDepth: 4 },
      { weight: 4, arbitrary: leaf },
      { weight: 1, arbitrary: tie("cond").map((operand): A.Expr => ({ kind: "not", operand, span: S })) },
      { weight: 1, arbitrary: fc.tuple(tie("cond"), tie("cond")).map(([left, right]): A.Expr => ({ kind: "and", left, right, span: S })) },
      { weight: 1, arbitrary: fc.tuple(tie("cond"), tie("cond")).map(([left, right]): A.Expr => ({ kind: "or", left, right, span: S })) },
    ),
  }));
  return cond;
}

/** A one-rule pack: parameters, two lists (inline and from a file), two macros, a time zone. */
interface Scenario {
  readonly cond: A.Expr;
  readonly text: string;
  readonly fileText: string;
  readonly env: InterpretEnv;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    m0: conditionArb([]),
    m1: conditionArb(["m0"]),
    cond: conditionArb(["m0", "m1"]),
    listA: fc.array(listItemArb, { maxLength: 5 }),
    fileLines: fc.array(fc.constantFrom(...FILE_LINES), { maxLength: 5 }),
    zone: fc.constantFrom(...ZONES),
  })
  .map(({ m0, m1, cond, listA, fileLines, zone }) => {
    const params = new Map(Object.entries(PARAMS).map(([n, [, v]]) => [n, v]));
    const env: InterpretEnv = {
      macros: new Map([
        ["m0", m0],
        ["m1", m1],
      ]),
      lists: new Map<string, readonly A.LiteralValue[]>([
        ["l_a", listA.map((i) => (i.kind === "literal" ? i.value : i.kind === "duration" ? i.ms : i.kind === "param" ? (params.get(i.name) ?? null) : null))],
        ["l_file", fileLines],
      ]),
      params,
      timezone: zone,
    };
    const text = [
      ...Object.entries(PARAMS).map(([n, [t]]) => `param ${n} = ${t}`),
      `list l_a = ${printExpr(list(listA))}`,
      'list l_file = file("l_file.txt")',
      `macro m0 = ${printExpr(m0)}`,
      `macro m1 = ${printExpr(m1)}`,
      `settings { timezone ${printString(zone)} }`,
      `rule r { severity low when ${printExpr(cond)} }`,
    ].join("\n");
    return { cond, text, fileText: `# addresses and names\n${fileLines.join("\n")}\n`, env };
  });

/** Literal values a scenario mentions, with variants (case, numeric spellings, glob fills). */
function mentionedValues(sc: Scenario): unknown[] {
  const out = new Set<unknown>();
  const add = (v: unknown) => {
    out.add(v);
    if (typeof v === "string") {
      if (v.trim() !== "" && !Number.isNaN(Number(v))) out.add(Number(v));
      out.add(v.toUpperCase());
      out.add(v.toLowerCase());
      out.add(v.replace(/[*?\\]/g, ""));
      out.add(v.replace(/\*/g, "xx").replace(/\?/g, "y"));
    } else if (typeof v === "number") {
      out.add(String(v));
      out.add(`${v}.0`);
      out.add(` ${v}`);
    }
  };
  const walk = (e: A.Expr): void => {
    switch (e.kind) {
      case "literal":
        return add(e.value);
      case "param":
        return add(sc.env.params.get(e.name));
      case "duration":
        return add(e.ms);
      case "and":
      case "or":
      case "compare":
      case "strmatch":
      case "cidr":
        walk(e.left);
        walk(e.right);
        return;
      case "in":
        walk(e.left);
        walk(e.set);
        return;
      case "not":
        return walk(e.operand);
      case "call":
        if (e.name === "luhn") ["4111111111111111", "4111 1111 1111 1111", "4111111111111112"].forEach(add);
        if (e.name === "hour_of_day" || e.name === "day_of_week") ["2024-01-02T03:04:05Z", "2024-03-31T01:30:00+02:00", 1704164645000].forEach(add);
        if (e.name === "base64_decode") ["cm9vdA==", "YWRtaW4", "!!"].forEach(add);
        return e.args.forEach(walk);
      case "list":
        return e.items.forEach(walk);
      default:
        return;
    }
  };
  walk(sc.cond);
  for (const m of sc.env.macros.values()) walk(m);
  for (const items of sc.env.lists.values()) items.forEach(add);
  return [...out].filter((v) => v !== undefined);
}

/** Field paths a scenario reads. */
function mentionedPaths(sc: Scenario): string[] {
  const out = new Set<string>();
  const walk = (e: A.Expr): void => {
    if (e.kind === "field" && !sc.env.macros.has(e.path) && !sc.env.lists.has(e.path)) out.add(e.path);
    else if (e.kind === "exists") out.add(e.field.path);
    else if (e.kind === "and" || e.kind === "or" || e.kind === "compare" || e.kind === "strmatch" || e.kind === "cidr") [e.left, e.right].forEach(walk);
    else if (e.kind === "in") walk(e.left);
    else if (e.kind === "not") walk(e.operand);
    else if (e.kind === "call") e.args.forEach(walk);
  };
  walk(sc.cond);
  for (const m of sc.env.macros.values()) walk(m);
  return [...out];
}

/** Places a value at a path, as nested objects or flat dotted keys: a cut after segment i nests. */
function placed(path: string, value: unknown, cuts: readonly boolean[]): Record<string, unknown> {
  const segs = splitPath(path);
  // Quoted paths only nested: a flat key beside a nested one resolves differently (a known bug, below).
  if (path.includes('"')) cuts = segs.map(() => true);
  const keys: string[] = [];
  let cur = segs[0] as string;
  for (let i = 1; i < segs.length; i++) {
    if (cuts[i - 1] === true) {
      keys.push(cur);
      cur = segs[i] as string;
    } else cur += `.${segs[i] as string}`;
  }
  keys.push(cur);
  return keys.reduceRight<Record<string, unknown>>((acc, k) => ({ [k]: acc }), value as Record<string, unknown>);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function merge(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(from)) {
    const have = into[k];
    if (have === undefined) into[k] = v;
    else if (isObject(have) && isObject(v)) merge(have, v);
  }
  return into;
}

/** Events for a scenario: its fields and values, nested or flat, over some noise. */
function eventsFor(sc: Scenario): fc.Arbitrary<EventFields[]> {
  const values = mentionedValues(sc);
  const pick = values.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...values) }, { weight: 2, arbitrary: scalarArb }) : scalarArb;
  const odd = fc.constantFrom<unknown>({}, { x: 1 }, [], [[1]], { "": "" });
  const value = fc.oneof({ weight: 8, arbitrary: pick }, { weight: 4, arbitrary: fc.array(pick, { maxLength: 3 }) }, { weight: 1, arbitrary: odd });
  const paths = mentionedPaths(sc);
  const path = paths.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...paths) }, { weight: 1, arbitrary: fc.constantFrom(...PATHS) }) : fc.constantFrom(...PATHS);
  const entry = fc.record({ path, value, cuts: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }) });
  const event = fc
    .tuple(fc.array(entry, { minLength: 1, maxLength: 6 }), fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: noiseArb }))
    .map(([entries, noise]) => {
      // Generated values may be shared between runs: merge copies, never the values themselves.
      const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
      const ev: Record<string, unknown> = {};
      for (const en of entries) merge(ev, placed(en.path, copy(en.value), en.cuts));
      if (noise !== null) merge(ev, copy(noise));
      return ev; // as events arrive: JSON
    });
  return fc.array(event, { minLength: 1, maxLength: 8 });
}

/** A scenario and events for it. */
const caseArb = scenarioArb.chain((sc) => fc.tuple(fc.constant(sc), eventsFor(sc)));

/** Runs of the differential property (VIGIL_FC_RUNS raises it for a longer hunt). */
const RUNS = Number(process.env.VIGIL_FC_RUNS ?? 1000);

/** Loads a scenario's pack and returns the rule's compiled predicate. */
function compiled(sc: Scenario): (f: EventFields) => boolean {
  const pack = loadPack([{ path: "t.vigil", text: sc.text }], { readText: () => sc.fileText });
  const errors = pack.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`the pack does not load:\n${sc.text}\n${errors.map((d) => `${d.line}:${d.col} ${d.message} [${d.code}]`).join("\n")}`);
  const rule = pack.rules[0];
  if (rule === undefined) throw new Error("no rule");
  return rule.match;
}

describe("compiled conditions agree with the reference interpreter", () => {
  test("generated conditions × generated events", () => {
    fc.assert(
      fc.property(caseArb, ([sc, events]) => {
        const match = compiled(sc);
        for (const ev of events) {
          const want = evaluate(sc.cond, ev, sc.env);
          const got = match(ev);
          if (got !== want) {
            throw new Error(`compiled ${got}, interpreter ${want}\n  when ${printExpr(sc.cond)}\n  event ${JSON.stringify(ev)}\n---\n${sc.text}\n${sc.fileText}`);
          }
        }
      }),
      { numRuns: RUNS },
    );
  }, Math.max(60_000, RUNS * 20));
});

/* ------------------------------------------------------------------ the interpreter itself */

describe("the reference interpreter", () => {
  const env: InterpretEnv = { macros: new Map(), lists: new Map(), params: new Map() };

  test("glob: * any run, ? one character, \\ escapes", () => {
    expect(globMatch("adm*", "administrator", false)).toBe(true);
    expect(globMatch("a*b*c", "aXXbYYc", false)).toBe(true);
    expect(globMatch("a*b*c", "aXXbYY", false)).toBe(false);
    expect(globMatch("*.e?e", "C:\\x\\evil.exe", false)).toBe(true);
    expect(globMatch("?", "😀", false)).toBe(true);
    expect(globMatch("\\*", "*", false)).toBe(true);
    expect(globMatch("\\*", "x", false)).toBe(false);
    expect(globMatch("a\\", "a\\", false)).toBe(true);
    expect(globMatch("", "", false)).toBe(true);
    expect(globMatch("A*", "abc", true)).toBe(true);
    expect(globMatch("A*", "abc", false)).toBe(false);
  });

  test("fields: nested, flat dotted and mixed keys; own properties only", () => {
    expect(readField({ source: { ip: "x" } }, "source.ip")).toBe("x");
    expect(readField({ "source.ip": "x" }, "source.ip")).toBe("x");
    expect(readField({ a: { "b.c": 1 } }, "a.b.c")).toBe(1);
    expect(readField({ labels: { "odd-name": 2 } }, 'labels."odd-name"')).toBe(2);
    expect(readField({ labels: { "a.b": 3 } }, 'labels."a.b"')).toBe(3);
    expect(readField({}, "constructor")).toBeUndefined();
  });

  test("luhn", () => {
    expect(luhnCheck("4111 1111 1111 1111")).toBe(true);
    expect(luhnCheck("4111111111111112")).toBe(false);
    expect(luhnCheck("79927398713")).toBe(false); // valid checksum, but only 11 digits
  });

  test("semantics from the README", () => {
    const c = (e: A.Expr, ev: EventFields) => evaluate(e, ev, env);
    const cmp = (op: A.CompareOp, l: A.Expr, r: A.Expr, ci = false): A.Expr => ({ kind: "compare", op, ci, left: l, right: r, span: S });
    expect(c(cmp("!=", field("a"), lit("x")), {})).toBe(false);
    expect(c(cmp("==", field("a"), lit(null)), { a: null })).toBe(true);
    expect(c(cmp("==", field("a"), lit(null)), {})).toBe(false);
    expect(c(cmp("!=", field("c"), lit("authentication")), { c: ["iam", "authentication"] })).toBe(false);
    expect(c(cmp("==", field("p"), lit(22)), { p: "22" })).toBe(true);
    expect(c(cmp(">", field("p"), lit(1000)), { p: "many" })).toBe(false);
    expect(c(cmp("==", field("p"), lit("Root"), true), { p: "root" })).toBe(true);
  });
});

/* ------------------------------------------------------------------ disagreements found */

/** Compiles `when COND` in a one-rule pack. */
function cond(text: string, decls = ""): (f: EventFields) => boolean {
  const pack = loadPack([{ path: "t.vigil", text: `${decls}\nrule r { severity low when ${text} }` }]);
  const errors = pack.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((d) => d.message).join("; "));
  return (pack.rules[0] as { match: (f: EventFields) => boolean }).match;
}

describe("bugs the differential test found (each input once, with the documented answer)", () => {
  test.each<[string, string, EventFields, boolean, string?]>([
    ["==~ on a text whose lower case is longer (İ)", 'f ==~ "İ"', { f: "İ" }, true],
    ["==~ with a number and a numeric string", 'f ==~ "22"', { f: 22 }, true],
    ["==~ with a number inside an array", 'f ==~ "22"', { f: [22] }, true],
    ["in with a numeric string not written as the list writes the number", "f in [1]", { f: "1.0" }, true],
    ["in with a padded numeric string", "f in [1]", { f: " 1" }, true],
    ["in~ with a number", "f in~ [1]", { f: 1 }, true],
    ["in~ with a boolean", "f in~ [true]", { f: true }, true],
    ["in~ with a numeric string and a number item", "f in~ [22]", { f: "22" }, true],
    ["not in~ with a number", "f not in~ [1]", { f: 1 }, false],
    ["a boolean function over an array field", "luhn(f)", { f: ["4111111111111111", "x"] }, true],
    ["== null on an array holding null", "f == null", { f: ["a", null] }, true],
    ["a parameter left null, tested with == null", "$unset == null and a == 1", { a: 1 }, true],
    ["null == null", "null == null", {}, true],
    ["a hexadecimal string is text, not a number", "f == 16", { f: "0x10" }, false],
    ["a binary string is text, not a number", "f == 16", { f: "0b10000" }, false],
    ["Infinity is text, not a number", "f > 3", { f: "Infinity" }, false],
    ["a signed decimal string is a number", "f == -7", { f: " -7 " }, true],
    ["an exponent is a number", "f == 1000", { f: "1e3" }, true],
    ["in with a null member: an explicit null", "f in [null]", { f: null }, true],
    ["in with a null member: an array holding null", 'f in ["a", null]', { f: [null] }, true],
    ["in with a null member: a missing field", "f in [null]", {}, false],
    ["in~ with a null member (as ==~ null)", "f in~ [null]", { f: null }, false],
    ["not in with a null member: an explicit null", "f not in [null]", { f: null }, false],
  ])("%s: %s on %j is %s", (_name, text, ev, want) => {
    expect(cond(text, "param unset = null")(ev)).toBe(want);
  });
});

describe("the generators reach the interesting cases", () => {
  test("conditions that depend on the event, both outcomes, every operator", () => {
    let dependent = 0;
    const outcomes = { true: 0, false: 0 };
    const kinds = new Set<string>();
    const walk = (e: A.Expr): void => {
      kinds.add(e.kind === "compare" || e.kind === "strmatch" ? `${e.kind}:${e.op}${e.ci ? "~" : ""}` : e.kind === "in" ? `in${e.negated ? ":not" : ""}${e.ci ? "~" : ""}` : e.kind);
      if (e.kind === "and" || e.kind === "or") [e.left, e.right].forEach(walk);
      else if (e.kind === "not") walk(e.operand);
      else if (e.kind === "compare" || e.kind === "strmatch" || e.kind === "cidr") [e.left, e.right].forEach(walk);
      else if (e.kind === "in") [e.left, e.set].forEach(walk);
      else if (e.kind === "call") e.args.forEach(walk);
    };
    const samples = fc.sample(caseArb, { numRuns: 500, seed: 42 });
    for (const [sc, events] of samples) {
      walk(sc.cond);
      const results = events.map((ev) => evaluate(sc.cond, ev, sc.env));
      for (const r of results) outcomes[String(r) as "true" | "false"]++;
      if (results.includes(true) && results.includes(false)) dependent++;
    }
    expect(dependent).toBeGreaterThan(60);
    expect(outcomes.true).toBeGreaterThan(500);
    expect(outcomes.false).toBeGreaterThan(500);
    for (const k of ["compare:==", "compare:==~", "compare:!=~", "compare:<", "strmatch:contains~", "strmatch:like~", "strmatch:matches", "in", "in:not~", "cidr", "exists", "call", "param", "duration"]) {
      expect(kinds, k).toContain(k);
    }
  });
});









/**
 * Disagreements with the documented semantics (README, docs/language.md) whose fixes are
 * outside dsl/compile and dsl/check; the differential property steers clear of them. Each
 * test fails until its bug is fixed.
 */
describe("bugs once open (each failed until it was fixed)", () => {
  test("fields.ts: members of Object.prototype are read as fields", () => {
    expect(cond("exists constructor")({})).toBe(false);
    expect(cond("exists user.toString")({ user: {} })).toBe(false);
    expect(cond("not exists hasOwnProperty")({})).toBe(true);
  });

  test("fields.ts: with a quoted segment, the whole path as a flat key no longer wins", () => {
    // The manual: "When the whole path is present as one flat key, it wins".
    expect(cond('labels.name == "flat"')({ "labels.name": "flat", labels: { name: "nested" } })).toBe(true);
    expect(cond('labels."odd-name" == "flat"')({ "labels.odd-name": "flat", labels: { "odd-name": "nested" } })).toBe(true);
  });

  test("build.ts: a double quote inside a quoted segment is lost (labels.\"x\\\"y\" reads labels.xy)", () => {
    const p = cond('labels."x\\"y" == 1');
    expect(p({ labels: { 'x"y': 1 } })).toBe(true);
    expect(p({ labels: { xy: 1 } })).toBe(false);
  });

  test("glob.ts: like~ does not fold an escaped letter", () => {
    expect(cond('f like "\\\\A"')({ f: "A" })).toBe(true);
    expect(cond('f like~ "\\\\A"')({ f: "A" })).toBe(true);
    expect(cond('f like~ "\\\\A*"')({ f: "abc" })).toBe(true);
  });

  test("glob.ts: like~ lower-cases the pattern letter by letter and the text as a whole", () => {
    // İ lower-cases to two UTF-16 units, a final Σ to ς: like~ then misses what like matches.
    expect(cond('f like "İ?"')({ f: "İx" })).toBe(true);
    expect(cond('f like~ "İ?"')({ f: "İx" })).toBe(true);
    expect(cond('f like "ΑΣ"')({ f: "ΑΣ" })).toBe(true);
    expect(cond('f like~ "ΑΣ"')({ f: "ΑΣ" })).toBe(true);
  });

  test("glob.ts: ? matches one UTF-16 unit, not one character", () => {
    expect(cond('f like "a?b"')({ f: "a😀b" })).toBe(true);
    expect(cond('f like "?"')({ f: "é" })).toBe(true);
  });
});

