import { describe, expect, test } from "vitest";
import { loadPack } from "./pack.js";
import { parseFile } from "./parser.js";
import { SourceFile } from "./source.js";

const parse = (text: string) => parseFile(new SourceFile("t.vigil", text));

describe("parser", () => {
  test("parses a full rule with every clause of the foundation", () => {
    const r = parse(`
list admin_users = ["root", "admin"]
macro auth_failure = event.category == "authentication" and event.outcome == "failure"
rule ssh_bruteforce {
  title "SSH brute force"
  severity high
  risk 70
  tags attack.credential_access, attack.t1110.001
  when auth_failure and service.name == "sshd" and not user.name in admin_users
  except source.ip cidr "10.0.0.0/8"
  count >= 5 within 10m by source.address, user.name
  suppress 10m by source.address
  then block_ip(source.ip, for: 1h), notify("soc") dry_run
}`);
    expect(r.diagnostics).toEqual([]);
    expect(r.decls.map((d) => d.kind)).toEqual(["list", "macro", "rule"]);
    const rule = r.decls[2];
    if (rule?.kind !== "rule") throw new Error("expected a rule");
    expect(rule.clauses.map((c) => c.kind)).toEqual(["meta", "meta", "meta", "tags", "when", "except", "threshold", "suppress", "then"]);
    const t = rule.clauses.find((c) => c.kind === "threshold");
    expect(t).toMatchObject({ agg: "count", op: ">=", value: { value: 5 }, within: { ms: 600_000 }, by: [{ path: "source.address" }, { path: "user.name" }] });
    const tags = rule.clauses.find((c) => c.kind === "tags");
    expect(tags).toMatchObject({ tags: [{ name: "attack.credential_access" }, { name: "attack.t1110.001" }] });
    const then = rule.clauses.find((c) => c.kind === "then");
    expect(then).toMatchObject({ actions: [{ name: { name: "block_ip" }, mode: undefined }, { name: { name: "notify" }, mode: "dry_run" }] });
  });

  test("every declaration left out is named as broken, whether its syntax or its check failed", () => {
    const text = "rule a {\n  severity low\n  when x ==\n}\nrule b {\n  severity low\n  count >= 2 within 5q\n}\nrule c {\n  severity low\n  when x == 1\n  count >= 2 within 0s\n}\nmacro m = (x ==\nrule ok1 {\n  severity low\n  when x == 1\n}\n";
    const pack = loadPack([{ path: "t.vigil", text }]);
    expect(pack.rules.map((r) => r.name)).toEqual(["ok1"]);
    expect(pack.broken).toEqual(["a", "b", "m", "c"]);
    expect(parseFile(new SourceFile("t.vigil", text)).unparsed).toEqual(["a", "b", "m"]);
  });

  test("precedence: not > and > or, and parentheses", () => {
    const r = parse(`macro m = a == 1 or b == 2 and not c == 3`);
    expect(r.decls[0]).toMatchObject({ expr: { kind: "or", right: { kind: "and", right: { kind: "not" } } } });
    const p = parse(`macro m = (a == 1 or b == 2) and c == 3`);
    expect(p.decls[0]).toMatchObject({ expr: { kind: "and", left: { kind: "or" } } });
  });

  test("soft keywords are field names; @timestamp and quoted segments", () => {
    const r = parse(`macro m = file.path == "x" and count > 3 and rule.name == "r" and labels."odd-name" == 1 and exists @timestamp`);
    expect(r.diagnostics).toEqual([]);
    const paths: string[] = [];
    JSON.stringify(r.decls[0], (k, v: unknown) => {
      if (k === "path" && typeof v === "string") paths.push(v);
      return v;
    });
    expect(paths).toEqual(["file.path", "count", "rule.name", 'labels."odd-name"', "@timestamp"]);
  });

  test("case-insensitive operators and negated in", () => {
    const r = parse(`macro m = a ==~ "X" and b contains~ "y" and c not in~ ["z"] and d like "adm*"`);
    expect(r.diagnostics).toEqual([]);
    expect(JSON.stringify(r.decls[0])).toContain('"ci":true');
  });

  test("keeps comments for the printer", () => {
    const r = parse(`# header\nmacro m = a == 1 # trailing\n`);
    expect(r.comments.map((c) => c.text)).toEqual(["# header", "# trailing"]);
  });
});

/** Broken rules: each asserts the code, line, column and message an analyst sees. */
describe("syntax errors name file:line:col and what was expected", () => {
  const cases: [string, string, string, number, number, string][] = [
    ["duration after within", "rule r {\n  when a == 1\n  count >= 5 within soon by x\n}", "E_SYNTAX", 3, 21, "expected a duration like 5m after 'within', found 'soon'"],
    ["= for ==", "rule r { when a = 1 }", "E_SYNTAX", 1, 17, "compare with == instead of ="],
    ["unterminated string", 'rule r {\n  when a == "x\n}', "E_UNTERMINATED_STRING", 2, 13, "unterminated string: add the closing quote on the same line"],
    ["bad number", "rule r { when a == 1 count >= 5 within 10mb }", "E_BAD_NUMBER", 1, 40, "'10mb' is neither a number nor a duration"],
    ["unexpected char", "rule r { when a == 1 & b == 2 }", "E_UNEXPECTED_CHAR", 1, 22, "unexpected character '&'"],
    ["missing brace", "rule r {\n  when a == 1\n", "E_UNEXPECTED_END", 2, 14, "unexpected end of rule 'r'"],
    ["not a declaration", "when a == 1", "E_EXPECTED_DECLARATION", 1, 1, "expected a declaration (rule, macro, list, param, model or settings), found 'when'"],
    ["count needs a number", "rule r { when a == 1 count >= many within 5m }", "E_SYNTAX", 1, 31, "expected a number or a parameter like $name after '>=', found 'many'"],
    ["dangling and", "macro m = a == 1 and", "E_UNEXPECTED_END", 1, 21, "unexpected end of macro 'm'"],
    ["a negative threshold", "rule r { when a == 1 sum(v) < -5 within 5m }", "E_SYNTAX", 1, 31, "found '-' (a negative number is written as a parameter: param min_delta = -5, then $min_delta)"],
  ];
  test.each(cases)("%s", (_name, text, code, line, col, message) => {
    const r = parse(text);
    expect(r.diagnostics).toHaveLength(1);
    const d = r.diagnostics[0];
    expect(d).toMatchObject({ code, line, col, file: "t.vigil" });
    expect(d?.message).toContain(message);
  });
});

describe("checker errors", () => {
  const base = 'macro ok = a == 1\nlist admins = ["x"]\nparam n = 5\n';
  const cases: [string, string, string, number, number, string][] = [
    ["unknown list", "rule r { severity low when a in admns }", "E_UNKNOWN_LIST", 4, 33, "unknown list 'admns' (did you mean admins?)"],
    ["unknown param", "rule r { severity low when a == 1 count >= $m within 5m }", "E_UNKNOWN_PARAM", 4, 44, "unknown parameter '$m'"],
    ["unknown function", "rule r { severity low when lowr(a) == \"x\" }", "E_UNKNOWN_FUNCTION", 4, 28, "unknown function 'lowr' (did you mean lower?)"],
    ["arity", "rule r { severity low when lower(a, b) == \"x\" }", "E_ARITY", 4, 28, "lower takes 1 argument, got 2"],
    ["bad severity", "rule r { severity hihg when ok }", "E_BAD_SEVERITY", 4, 19, "severity must be one of low, medium, high, critical (did you mean high?)"],
    ["missing when", "rule r { severity low }", "E_MISSING_WHEN", 4, 6, "rule 'r' has no 'when' clause"],
    ["two correlations", "rule r { severity low when ok count >= 2 within 1m count >= 3 within 1m }", "E_MULTIPLE_CORRELATIONS", 4, 52, "at most one correlation"],
    ["zero duration", "rule r { severity low when ok count >= 2 within 0s }", "E_BAD_DURATION", 4, 49, "greater than zero"],
    ["zero threshold", "rule r { severity low when ok count >= 0 within 1m }", "E_BAD_THRESHOLD", 4, 40, "at least 1"],
    ["unknown action", "rule r { severity low when ok then blok_ip(source.ip) }", "E_UNKNOWN_ACTION", 4, 36, "unknown action 'blok_ip' (did you mean block_ip?)"],
    ["action arg type", "rule r { severity low when ok then block_ip(source.ip, for: \"1h\") }", "E_ACTION_ARG", 4, 61, "'for' of block_ip takes a duration like 1h"],
    ["missing action arg", "rule r { severity low when ok then lock_account() }", "E_ACTION_ARG", 4, 36, "lock_account needs its 'account' argument"],
    ["type mismatch", "rule r { severity low when 1 == \"a\" }", "E_TYPE", 4, 28, "cannot compare a number with a string"],
    ["not a condition", "rule r { severity low when \"sshd\" }", "E_NOT_A_CONDITION", 4, 28, "a string is not a condition"],
    ["bad cidr", "rule r { severity low when a cidr \"10.0.0.0/33\" }", "E_BAD_CIDR", 4, 35, "is not a CIDR block"],
    ["macro as value", "rule r { severity low when ok == 1 }", "E_MACRO_AS_VALUE", 4, 28, "'ok' is a macro (a condition), not a value"],
    ["duplicate", "macro ok = b == 2", "E_DUPLICATE_NAME", 4, 7, "'ok' is already declared at t.vigil:1:7"],
  ];
  test.each(cases)("%s", (_name, text, code, line, col, message) => {
    const pack = loadPack([{ path: "t.vigil", text: base + text }]);
    const d = pack.diagnostics.find((x) => x.code === code);
    expect(d, JSON.stringify(pack.diagnostics.map((x) => `${x.code} ${x.message}`))).toBeDefined();
    expect(d).toMatchObject({ line, col });
    expect(d?.message).toContain(message);
  });

  test("a macro cycle is reported", () => {
    const pack = loadPack([{ path: "t.vigil", text: "macro a = b\nmacro b = a\nrule r { severity low when a }" }]);
    expect(pack.diagnostics.map((d) => d.code)).toContain("E_MACRO_CYCLE");
    expect(pack.rules).toHaveLength(0);
  });

  test("a broken rule is reported and the others still load", () => {
    const pack = loadPack([
      { path: "a.vigil", text: 'rule good1 { severity low when a == 1 }\nrule bad { severity low when a == 1 count >= 5 within soon }\nrule good2 { severity high when b == "x" }' },
      { path: "b.vigil", text: "rule bad2 { severity low when nosuch_fn(a) }\nrule good3 { severity low when c == 2 }" },
    ]);
    expect(pack.rules.map((r) => r.name)).toEqual(["good1", "good2", "good3"]);
    expect(pack.diagnostics.map((d) => `${d.file}:${d.line}:${d.code}`)).toEqual(["a.vigil:2:E_SYNTAX", "b.vigil:1:E_UNKNOWN_FUNCTION"]);
  });

  test("an unclosed brace does not swallow the next rule", () => {
    const pack = loadPack([{ path: "a.vigil", text: "rule bad { severity low when a == 1\nrule good { severity low when a == 2 }" }]);
    expect(pack.rules.map((r) => r.name)).toEqual(["good"]);
    expect(pack.diagnostics).toHaveLength(1);
  });

  test("parameters take configured overrides", () => {
    const text = "param max = 5\nrule r { severity low when a == 1 count >= $max within 1m }";
    expect(loadPack([{ path: "a.vigil", text }]).rules[0]?.correlation).toMatchObject({ kind: "threshold", value: 5 });
    expect(loadPack([{ path: "a.vigil", text }], { params: { max: 3 } }).rules[0]?.correlation).toMatchObject({ kind: "threshold", value: 3 });
    const bad = loadPack([{ path: "a.vigil", text }], { params: { max: "x" } });
    expect(bad.diagnostics.map((d) => d.code)).toContain("E_PARAM_OVERRIDE");
  });
});

describe("declaration boundaries", () => {
  test("soft keywords as declared names, after another declaration", () => {
    for (const name of ["model", "first", "sequence", "for", "count"]) {
      const r = parse(`macro a = x == 1\nmacro ${name} = y == 2`);
      expect(r.diagnostics, name).toEqual([]);
      expect(r.decls).toHaveLength(2);
    }
  });

  test("a field named like a declaration keyword at the end of an expression is not a new declaration", () => {
    const r = parse(`macro m = x in list\nrule r { severity low when m }`);
    expect(r.diagnostics).toEqual([]);
    expect(r.decls.map((d) => d.kind)).toEqual(["macro", "rule"]);
    const p = parse(`macro m = (x == list)\nmacro n = model == 2`);
    expect(p.diagnostics).toEqual([]);
    expect(p.decls).toHaveLength(2);
  });
});

test("a rule's version ignores layout and comments, and follows its meaning", () => {
  const a = loadPack([{ path: "a.vigil", text: 'macro m = x == 1\nrule r { severity low when m count >= 3 within 1m by ip }' }]);
  const b = loadPack([{ path: "a.vigil", text: '# note\nmacro m = x == 1\n\nrule r {\n  severity low # why\n  when m\n  count >= 3 within 1m by ip\n}' }]);
  const c = loadPack([{ path: "a.vigil", text: 'macro m = x == 2\nrule r { severity low when m count >= 3 within 1m by ip }' }]);
  expect(a.rules[0]?.fingerprint).toBe(b.rules[0]?.fingerprint);
  expect(a.rules[0]?.fingerprint).not.toBe(c.rules[0]?.fingerprint); // the macro it uses changed
});

test("with a field schema, unknown fields are warnings with the closest known field; the rule still loads", () => {
  const schema = new Set(["source.ip", "event.outcome", "user.name"]);
  const text = `macro fail = event.outcome == "failure"\nlist admins = ["root"]\nrule r { severity low when fail and soruce.ip == "x" and user.name in admins
  sequence by source.ip within 1m { a: fail  b: user.name == a.user.name } }`;
  const pack = loadPack([{ path: "t.vigil", text }], { schema });
  expect(pack.diagnostics.map((d) => [d.code, d.severity, d.message])).toEqual([["W_UNKNOWN_FIELD", "warning", "unknown field 'soruce.ip' (did you mean source.ip?): the configured schema does not have it"]]);
  expect(pack.rules).toHaveLength(1);
  expect(loadPack([{ path: "t.vigil", text }]).diagnostics).toEqual([]);
});
