/**
 * Generated condition functions (codegen.ts) against the closures they replace
 * (conditions.ts): same answers on every event, for arbitrary syntax trees (unchecked: odd
 * strings, odd field paths, odd operand kinds) and arbitrary events (flat, nested, mixed,
 * arrays, inherited names). Plus: rule text never becomes code, deep conditions keep the
 * closures, sequence steps read earlier steps, and the pieces codegen relies on (native
 * regexes, star-only globs, address tests) agree with their references.
 */
import fc from "fast-check";
import RE2 from "re2";
import { describe, expect, test } from "vitest";
import type * as A from "../ast.js";
import { exprArb, stringValueArb } from "../ast-arbitraries.js";
import { splitFieldPath, type EventFields } from "../fields.js";
import { compileGlob } from "../glob.js";
import { CidrSet, cidrContains, parseCidr, parseIp } from "../ip.js";
import { loadPack } from "../pack.js";
import { compileRegex, nativeSafe } from "../regex.js";
import { addressTest } from "./addresses.js";
import { compilePredicate, generatedSource, isGenerated } from "./codegen.js";
import { compileCondition, compileListItems, FALSE, TRUE, type CompileEnv } from "./conditions.js";

const RUNS = Number(process.env.VIGIL_FC_RUNS ?? 1000);
const S = { start: 0, end: 0 };

/* ------------------------------------------------------------------ helpers */

/** Field paths and literal values a tree mentions. */
function mentioned(e: A.Expr): { paths: string[]; values: unknown[] } {
  const paths = new Set<string>();
  const values = new Set<unknown>();
  const walk = (x: A.Expr): void => {
    switch (x.kind) {
      case "field":
        paths.add(x.path);
        return;
      case "exists":
        paths.add(x.field.path);
        return;
      case "literal":
        values.add(x.value);
        if (typeof x.value === "string") {
          values.add(x.value.toUpperCase());
          values.add(x.value.toLowerCase());
          if (x.value.trim() !== "" && !Number.isNaN(Number(x.value))) values.add(Number(x.value));
          values.add(`${x.value}x`);
          values.add(`x${x.value}`);
        } else if (typeof x.value === "number") {
          values.add(String(x.value));
          values.add(x.value + 1);
          values.add(x.value - 1);
        }
        return;
      case "duration":
        values.add(x.ms);
        return;
      case "and":
      case "or":
      case "compare":
      case "strmatch":
      case "cidr":
        walk(x.left);
        walk(x.right);
        return;
      case "in":
        walk(x.left);
        walk(x.set);
        return;
      case "not":
        walk(x.operand);
        return;
      case "call":
        x.args.forEach(walk);
        return;
      case "list":
        x.items.forEach(walk);
        return;
      default:
        return;
    }
  };
  walk(e);
  return { paths: [...paths], values: [...values] };
}

/** A value placed at a path: flat dotted key, nested objects, or a mix (cuts after some segments). */
function placed(path: string, value: unknown, cuts: readonly boolean[]): Record<string, unknown> {
  const segs = splitFieldPath(path);
  const keys: string[] = [];
  let cur = segs[0] as string;
  for (let i = 1; i < segs.length; i++) {
    if (cuts[i - 1] === true) {
      keys.push(cur);
      cur = segs[i] as string;
    } else cur += `.${segs[i] as string}`;
  }
  keys.push(cur);
  return keys.reduceRight<Record<string, unknown>>((acc, k) => JSON.parse(`{${JSON.stringify(k)}: ${JSON.stringify(acc) ?? "null"}}`) as Record<string, unknown>, value as Record<string, unknown>);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function merge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const k of Object.keys(from)) {
    const v = from[k];
    const have = Object.hasOwn(into, k) ? into[k] : undefined;
    if (have === undefined) Object.defineProperty(into, k, { value: v, enumerable: true, writable: true, configurable: true });
    else if (isObject(have) && isObject(v)) merge(have, v);
  }
}

const scalarArb = fc.oneof(
  stringValueArb,
  fc.constantFrom("22", " 22", "1e3", "-0", "Infinity", "10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1", "İ", "ſ", "K", "\ud83d", "😀"),
  fc.double(),
  fc.constantFrom(0, -0, 1, 22, 400, 404, 500, 1e21, NaN, Infinity, -Infinity),
  fc.boolean(),
  fc.constant(null),
);

/** Events for a tree: its paths with its values (or noise), in every form, sometimes odd. */
function eventsFor(e: A.Expr): fc.Arbitrary<EventFields[]> {
  const { paths, values } = mentioned(e);
  const pick = values.length > 0 ? fc.oneof(fc.constantFrom(...values), scalarArb) : scalarArb;
  const value = fc.oneof(
    { weight: 8, arbitrary: pick },
    { weight: 3, arbitrary: fc.array(pick, { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>({}, { x: 1 }, [], [[1]], { "": "" }) },
  );
  const path = paths.length > 0 ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...paths) }, { weight: 1, arbitrary: fc.constantFrom("a", "a.b", "__proto__", "constructor", "toString.x") }) : fc.constant("a");
  const entry = fc.record({ path, value, cuts: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) });
  const event = fc.tuple(fc.array(entry, { minLength: 0, maxLength: 6 }), fc.constantFrom("none", "none", "proto", "fn")).map(([entries, odd]) => {
    const ev: Record<string, unknown> = {};
    for (const en of entries) merge(ev, placed(en.path, en.value, en.cuts));
    // A function-valued own property (not a field) on a programmatic event.
    if (odd === "fn" && paths.length > 0) {
      const first = splitFieldPath(paths[0] as string)[0] as string;
      if (!Object.hasOwn(ev, first)) ev[first] = () => 1;
    }
    return ev;
  });
  return fc.array(event, { minLength: 1, maxLength: 6 });
}

const EMPTY_ENV: CompileEnv = { macros: new Map(), lists: new Map(), params: new Map<string, A.LiteralValue>([["p", "root"], ["n", 22], ["z", null]]) };

/** Compiles both ways; undefined when the closure compiler itself throws (an unchecked tree it refuses). */
function both(e: A.Expr, env: CompileEnv): { gen: (f: EventFields) => boolean; ref: (f: EventFields) => boolean } | undefined {
  let ref: (f: EventFields) => boolean;
  try {
    ref = compileCondition(e, env);
  } catch {
    return undefined;
  }
  const gen = compilePredicate(e, env);
  return { gen, ref };
}

/* ------------------------------------------------------------------ generated = closures */

describe("generated functions agree with the closures", () => {
  test("arbitrary trees × arbitrary events", () => {
    let generatedCount = 0;
    fc.assert(
      fc.property(
        exprArb(4).chain((e) => fc.tuple(fc.constant(e), eventsFor(e))),
        ([e, events]) => {
          const c = both(e, EMPTY_ENV);
          if (c === undefined) return;
          if (isGenerated(c.gen)) generatedCount++;
          else expect([TRUE, FALSE]).toContain(c.gen);
          for (const ev of events) {
            const want = c.ref(ev);
            const got = c.gen(ev);
            if (got !== want) throw new Error(`generated ${String(got)}, closures ${String(want)}\n  ${generatedSource(e, EMPTY_ENV)}\n  event ${JSON.stringify(ev)}`);
          }
        },
      ),
      { numRuns: RUNS },
    );
    expect(generatedCount).toBeGreaterThan(RUNS / 4);
  }, Math.max(60_000, RUNS * 20));

  test("every common shape is generated", () => {
    const lists = new Map([["l", compileListItems("l", ["root", "22", 7, "10.0.0.0/8", "2001:db8::/32"])]]);
    const env: CompileEnv = { macros: new Map(), lists, params: new Map() };
    const f = (path: string): A.FieldExpr => ({ kind: "field", path, span: S });
    const lit = (value: A.LiteralValue): A.LiteralExpr => ({ kind: "literal", value, span: S });
    const conds: A.Expr[] = [
      { kind: "compare", op: "==", ci: false, left: f("event.category"), right: lit("authentication"), span: S },
      { kind: "compare", op: ">=", ci: false, left: f("http.response.status_code"), right: lit(400), span: S },
      { kind: "compare", op: "!=", ci: true, left: lit("x"), right: f("a"), span: S },
      { kind: "strmatch", op: "like", ci: true, left: f("url.query"), right: lit("*union*select*"), span: S },
      { kind: "strmatch", op: "matches", ci: false, left: { kind: "call", name: "lower", nameSpan: S, args: [f("ua")], span: S }, right: { kind: "regex", pattern: "(sqlmap|nikto)", flags: "", span: S }, span: S },
      { kind: "in", left: f("user.name"), set: f("l"), negated: true, ci: false, span: S },
      { kind: "cidr", left: f("source.ip"), right: lit("10.0.0.0/8"), span: S },
      { kind: "compare", op: ">", ci: false, left: { kind: "call", name: "len", nameSpan: S, args: [f("dns.question.name")], span: S }, right: lit(60), span: S },
      { kind: "exists", field: f("a.b.c"), span: S },
    ];
    for (const c of conds) {
      const src = generatedSource(c, env) ?? "";
      const p = compilePredicate(c, env);
      expect(isGenerated(p), src).toBe(true);
      const { paths } = mentioned(c);
      for (const v of ["authentication", "10.1.2.3", "SQLMAP", "x union y select z", 404, 7, "22", "x".repeat(61), undefined, null, [404, "root"]]) {
        for (const path of paths) expect(p({ [path]: v }), src).toBe(compileCondition(c, env)({ [path]: v }));
      }
    }
  });
});

/* ------------------------------------------------------------------ rule text is never code */

/** Compiles `when COND` in a one-rule pack. */
function cond(text: string, decls = ""): (f: EventFields) => boolean {
  const pack = loadPack([{ path: "t.vigil", text: `${decls}\nrule r { severity low when ${text} }` }]);
  const errors = pack.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((d) => d.message).join("; "));
  return (pack.rules[0] as { match: (f: EventFields) => boolean }).match;
}

describe("rule text never becomes code", () => {
  const g = globalThis as Record<string, unknown>;
  const HOSTILE = [
    '"); globalThis.__vigilPwned = 1; ("',
    "'); globalThis.__vigilPwned = 1; ('",
    "`${globalThis.__vigilPwned = 1}`",
    "*/ globalThis.__vigilPwned = 1; /*",
    "\u2028globalThis.__vigilPwned = 1\u2029",
    "\\\"; globalThis.__vigilPwned = 1; //",
    "</script>",
  ];

  test("hostile literals, patterns and field names are plain text", () => {
    delete g.__vigilPwned;
    for (const s of HOSTILE) {
      const lit = JSON.stringify(s); // the language's string escapes are a subset of JSON's for these
      const field = `labels.${JSON.stringify(s)}`;
      const cases: [string, boolean][] = [
        [`a == ${lit}`, true],
        [`a ==~ ${lit}`, true],
        [`a != ${lit}`, false],
        [`a contains ${lit}`, true],
        [`a like ${lit}`, globReference(s, false, s)],
        [`a like~ ${lit}`, globReference(s, true, s)],
        [`a in [${lit}, 1]`, true],
        [`${field} == "x"`, true],
        [`exists ${field}`, true],
        [`${field} startswith ${lit}`, false],
      ];
      for (const [text, want] of cases) {
        const p = cond(text);
        expect(isGenerated(p), text).toBe(true);
        expect(p({ a: s, labels: { [s]: "x" } }), text).toBe(want);
        expect(p({}), text).toBe(false);
      }
    }
    expect(g.__vigilPwned).toBeUndefined();
  });

  test("a field path with quotes and backslashes reads the right key", () => {
    const p = cond('labels."x\\"y\\\\z" == 1');
    expect(p({ labels: { 'x"y\\z': 1 } })).toBe(true);
    expect(p({ 'labels.x"y\\z': 1 })).toBe(true);
    expect(p({ labels: { xyz: 1 } })).toBe(false);
  });
});

/* ------------------------------------------------------------------ fields */

describe("field reads", () => {
  test("flat, nested and mixed forms, inherited names, functions", () => {
    const p = cond('a.b.c == "x"');
    expect(p({ "a.b.c": "x" })).toBe(true);
    expect(p({ a: { b: { c: "x" } } })).toBe(true);
    expect(p({ "a.b": { c: "x" } })).toBe(true);
    expect(p({ a: { "b.c": "x" } })).toBe(true);
    expect(p({ a: { b: { c: "y" } }, "a.b": { c: "x" } })).toBe(false); // the first path found wins
    expect(p({ a: [{ b: { c: "x" } }] })).toBe(false);
    expect(p({ a: { b: null }, "a.b": { c: "x" } })).toBe(true);
    expect(p({ "a.b.c": () => "x", a: { b: { c: "x" } } })).toBe(true);
    const q = cond('constructor == "x" or toString.x == 1 or exists hasOwnProperty');
    expect(q({})).toBe(false);
    expect(q({ constructor: "x" })).toBe(true);
    const proto = cond("__proto__ == 1 or labels.__proto__ == 2");
    expect(proto(JSON.parse('{"__proto__": 1}') as EventFields)).toBe(true);
    expect(proto(JSON.parse('{"labels": {"__proto__": 2}}') as EventFields)).toBe(true);
    expect(proto({ labels: {} })).toBe(false);
    expect(proto({})).toBe(false);
  });

  test("a field read several times is read once, and re-read where the first read may not have run", () => {
    const src = generatedSource(
      {
        kind: "or",
        left: { kind: "exists", field: { kind: "field", path: "x", span: S }, span: S },
        right: { kind: "compare", op: "==", ci: false, left: { kind: "field", path: "x", span: S }, right: { kind: "literal", value: 1, span: S }, span: S },
        span: S,
      },
      EMPTY_ENV,
    );
    expect(src?.match(/f\["x"\]/g)?.length).toBe(1);
    const p = cond('(a == 1 or b == 2) and a == 3');
    expect(p({ b: 2, a: 3 })).toBe(true);
    expect(p({ a: 1 })).toBe(false);
    const q = cond("not (a == 1 and b == 2) and b == 3");
    expect(q({ a: 2, b: 3 })).toBe(true);
  });
});

/* ------------------------------------------------------------------ sequences, excepts, limits */

describe("sequences, excepts and limits", () => {
  test("a step reads earlier steps' fields through the slot", () => {
    const pack = loadPack([
      {
        path: "t.vigil",
        text: `rule s {
  severity low
  sequence by user.name within 5m {
    fail: event.outcome == "failure"
    ok: event.outcome == "success" and fail.user.name == "bob" and exists fail.user.name
  }
}`,
      },
    ]);
    const corr = pack.rules[0]?.correlation;
    if (corr?.kind !== "sequence") throw new Error("no sequence");
    const ok = corr.steps[1]?.match as (f: EventFields) => boolean;
    expect(isGenerated(ok)).toBe(true);
    corr.slot.events = [{ "user.name": "bob", "event.outcome": "failure" }];
    // `exists fail.user.name` reads the event's own field `fail.user.name` (as the closures do).
    expect(ok({ "event.outcome": "success" })).toBe(false);
    expect(ok({ "event.outcome": "success", "fail.user.name": 1 })).toBe(true);
    corr.slot.events = [{ user: { name: "bob" } }];
    expect(ok({ "event.outcome": "success", "fail.user.name": 1 })).toBe(true);
    corr.slot.events = [{ user: { name: "eve" } }];
    expect(ok({ "event.outcome": "success", "fail.user.name": 1, user: { name: "bob" } })).toBe(false);
    corr.slot.events = [];
    expect(ok({ "event.outcome": "success", "fail.user.name": 1 })).toBe(false);
  });

  test("except is part of the one function", () => {
    const pack = loadPack([{ path: "t.vigil", text: "rule r { severity low when a == 1 except b == 2 except c == 3 }" }]);
    const m = pack.rules[0]?.match as (f: EventFields) => boolean;
    expect(isGenerated(m)).toBe(true);
    expect([m({ a: 1 }), m({ a: 1, b: 2 }), m({ a: 1, c: 3 }), m({ a: 2 })]).toEqual([true, false, false, false]);
  });

  test("long chains stay flat; conditions nested too deep keep the closures", () => {
    const chain = Array.from({ length: 300 }, (_, i) => `a${i} == ${i}`).join(" or ");
    const p = cond(chain);
    expect(isGenerated(p)).toBe(true);
    expect(p({ a299: 299 })).toBe(true);
    expect(p({ a299: 298 })).toBe(false);
    // Macros nesting `not (… and …)` 150 deep: past the generator's nesting limit.
    const macros = Array.from({ length: 150 }, (_, i) => `macro m${i + 1} = not (m${i} and b${i} == 1)`).join("\n");
    const deep = cond("m150", `macro m0 = a == 1\n${macros}`);
    expect(isGenerated(deep)).toBe(false);
    expect(typeof deep({ a: 1 })).toBe("boolean");
  });
});

/* ------------------------------------------------------------------ the pieces */

describe("native regexes agree with RE2", () => {
  test("the subset is recognised, the rest refused", () => {
    for (const p of ["(sqlmap|nikto|nmap)", "^(GET|POST)$", "a\\.b\\/c", "[a-z0-9_\\-]x", "\\d\\w", "", "a|", "(?:ab|cd)e"]) expect(nativeSafe(p, ""), p).toBe(true);
    for (const p of ["a*", "a+", "a?", "a{2}", ".", "\\s", "\\b", "[^a]", "\\D", "(?=a)", "(?<n>a)", "a]", "a}", "[a-]", "[]", "é", "\\x41", "\\1", "(a|a)(a|a)(a|a)(a|a)(a|a)(a|a)(a|a)(a|a)(a|a)(a|a)b"]) {
      expect(nativeSafe(p, ""), p).toBe(false);
    }
    expect(nativeSafe("^a$", "m")).toBe(false);
    expect(nativeSafe("ab", "m")).toBe(true);
    expect(nativeSafe("a", "g")).toBe(false);
  });

  const atom = fc.constantFrom("a", "b", "k", "s", "K", "S", "1", " ", "-", "/", "_", ":", "\\.", "\\/", "\\(", "\\d", "\\w", "\\n", "[a-c]", "[ks]", "[0-9\\-]", "[A-Z]", "^", "$");
  const seq = fc.array(atom, { minLength: 0, maxLength: 4 }).map((a) => a.join(""));
  const pattern: fc.Arbitrary<string> = fc.oneof(
    seq,
    fc.array(seq, { minLength: 2, maxLength: 3 }).map((a) => a.join("|")),
    fc.tuple(seq, fc.array(seq, { minLength: 1, maxLength: 3 }), seq).map(([a, b, c]) => `${a}(${b.join("|")})${c}`),
    fc.tuple(seq, fc.array(seq, { minLength: 1, maxLength: 3 }), seq).map(([a, b, c]) => `${a}(?:${b.join("|")})${c}`),
  );
  const text = fc.oneof(
    fc.string({ unit: fc.constantFrom("a", "b", "k", "s", "A", "K", "S", "\u212a", "\u017f", "1", " ", "-", "/", ".", "_", ":", "(", "\n", "\r", "\u2028", "é", "😀", "\ud83d"), maxLength: 8 }),
    fc.string({ unit: "binary", maxLength: 6 }),
  );

  test("same answers on the subset", () => {
    fc.assert(
      fc.property(pattern, fc.constantFrom("", "i", "m", "s", "im", "ims"), fc.array(text, { minLength: 1, maxLength: 8 }), (p, flags, texts) => {
        if (!nativeSafe(p, flags)) return;
        const ours = compileRegex(p, flags);
        const re2 = new RE2(p, flags);
        for (const t of texts) expect(ours(t), `/${p}/${flags} on ${JSON.stringify(t)}`).toBe(re2.test(t));
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

/**
 * `like` as compileGlob means it, written independently: fold the whole pattern and the whole
 * text (like~), then match code points with a Unicode RegExp (`*` any run, `?` one, `\` escapes).
 */
function globReference(pattern: string, ci: boolean, text: string): boolean {
  const norm = (x: string) => (ci ? x.toLowerCase() : x);
  const chars = Array.from(norm(pattern));
  let re = "";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const lit = (ch: string) => `\\u{${(ch.codePointAt(0) as number).toString(16)}}`;
    if (c === "\\" && i + 1 < chars.length) re += lit(chars[++i] as string);
    else if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else re += lit(c);
  }
  return new RegExp(`^${re}$`, "u").test(norm(text));
}

describe("globs", () => {
  test("star-only globs (chained indexOf) agree with the reference", () => {
    const unit = fc.constantFrom("a", "b", "A", "ab", "İ", "ς", "Σ", "😀", ".", "\\*", "\\?", "?", "x");
    const globArb = fc.array(fc.oneof({ weight: 3, arbitrary: unit }, { weight: 2, arbitrary: fc.constant("*") }), { maxLength: 7 }).map((a) => a.join(""));
    const textArb = fc.array(fc.constantFrom("a", "b", "A", "B", "İ", "i̇", "ς", "Σ", "σ", "😀", "\ud83d", "\ude00", ".", "*", "x", "union", "select"), { maxLength: 8 }).map((a) => a.join(""));
    fc.assert(
      fc.property(globArb, fc.boolean(), fc.array(textArb, { minLength: 1, maxLength: 6 }), (g, ci, texts) => {
        const m = compileGlob(g, ci);
        for (const t of texts) expect(m(t), `${g} ${ci ? "like~" : "like"} ${JSON.stringify(t)}`).toBe(globReference(g, ci, t));
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe("address tests", () => {
  test("addressTest agrees with parseIp + cidrContains and with the trie", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const v4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));
    const v6 = fc.oneof(
      v4.map((a) => `::ffff:${a}`),
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((w) => w.map((x) => x.toString(16)).join(":")),
      fc.constantFrom("::", "::1", "2001:db8::1", "fe80::1%eth0", "[::1]", "::ffff:0:0"),
    );
    const block = fc.oneof(
      fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([a, n]) => `${a}/${n}`),
      fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([a, n]) => `${a}/${n}`),
      fc.constantFrom("0.0.0.0/0", "::/0", "::ffff:10.0.0.0/104", "::ffff:0:0/96", "::/80", "10.1.2.3", "2001:db8::/32"),
    );
    const addr = fc.oneof(v4, v6, fc.constantFrom("", "10.1.2", "10.01.2.3", "256.1.1.1", "1.2.3.4.5", "x", " 10.1.2.3", "10.1.2.3 ", "a".repeat(70)));
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 12 }), fc.array(addr, { minLength: 1, maxLength: 10 }), (blocks, addrs) => {
        const cidrs = blocks.map(parseCidr).filter((c) => c !== undefined);
        if (cidrs.length === 0) return;
        const test = addressTest(cidrs);
        const set = new CidrSet();
        cidrs.forEach((c) => set.add(c));
        for (const a of addrs) {
          const bytes = parseIp(a);
          const want = bytes !== undefined && cidrs.some((c) => cidrContains(c, bytes));
          expect(test(a), `${a} in ${blocks.join(", ")}`).toBe(want);
          expect(set.has(a)).toBe(want);
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
