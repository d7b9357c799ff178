import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { declsArb, exprArb, stripSpans } from "./ast-arbitraries.js";
import type * as A from "./ast.js";
import { createLexer } from "./lexer.js";
import { loadPack } from "./pack.js";
import { parseFile } from "./parser.js";
import { formatSource, printExpr, printFile, printNumber, printString } from "./printer.js";
import { SourceFile } from "./source.js";

const parse = (text: string) => parseFile(new SourceFile("t.vigil", text));

/** Formats text (which must parse), checking that the result parses to the same trees. */
function fmt(text: string): string {
  const r = parse(text);
  expect(r.diagnostics).toEqual([]);
  const out = printFile(r.decls, r.comments, r.source);
  const again = parse(out);
  expect(again.diagnostics).toEqual([]);
  expect(stripSpans(again.decls)).toEqual(stripSpans(r.decls));
  expect(again.comments.map((c) => c.text.trimEnd()).sort()).toEqual(r.comments.map((c) => c.text.trimEnd()).sort());
  expect(printFile(again.decls, again.comments, again.source)).toBe(out);
  return out;
}

const macroExpr = (text: string): A.Expr => {
  const r = parse(`macro m = ${text}`);
  expect(r.diagnostics).toEqual([]);
  const d = r.decls[0];
  if (d?.kind !== "macro") throw new Error("expected a macro");
  return d.expr;
};

describe("printer: round trip on generated trees", () => {
  test("parse(print(decls)) is decls (modulo spans), and printing is idempotent", () => {
    fc.assert(
      fc.property(declsArb, (decls) => {
        const text = printFile(decls, []);
        const r = parse(text);
        expect(r.diagnostics, text).toEqual([]);
        expect(stripSpans(r.decls)).toEqual(stripSpans(decls));
        expect(printFile(r.decls, r.comments, r.source)).toBe(text);
      }),
      { numRuns: 400 },
    );
  });

  test("expressions: parentheses only where precedence needs them, and enough of them", () => {
    fc.assert(
      fc.property(exprArb(5), (e) => {
        const text = printExpr(e);
        const back = macroExpr(text);
        expect(stripSpans(back)).toEqual(stripSpans(e));
        expect(printExpr(back)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  test("comments added to canonical text at line ends and on lines of their own stay where they are", () => {
    const commentArb = fc
      .string({ maxLength: 20 })
      .map((s) => `#${s.replace(/[\r\n]/g, " ")}`.trimEnd());
    const arb = declsArb
      .map((decls) => printFile(decls, []).split("\n").slice(0, -1))
      .chain((lines) =>
        fc.tuple(
          fc.constant(lines),
          fc.array(fc.option(commentArb, { freq: 3 }), { minLength: lines.length, maxLength: lines.length }),
          fc.array(fc.option(commentArb, { freq: 3 }), { minLength: lines.length + 1, maxLength: lines.length + 1 }),
        ),
      );
    fc.assert(
      fc.property(arb, ([lines, trailing, own]) => {
        const out: string[] = [];
        lines.forEach((l, i) => {
          const c = own[i];
          // Own-line comments go before non-blank lines, indented like them (inside the block before a closing brace).
          const indent = (/^ */.exec(l)?.[0] ?? "") + (l.trimStart().startsWith("}") ? "  " : "");
          if (c !== null && c !== undefined && l !== "") out.push(indent + c);
          const t = trailing[i];
          out.push(t !== null && t !== undefined && l !== "" ? `${l} ${t}` : l);
        });
        const last = own[lines.length];
        if (last !== null && last !== undefined) out.push(last);
        const text = out.length === 0 ? "" : out.join("\n") + "\n";
        expect(fmt(text)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });
});

describe("printer: comments anywhere", () => {
  test("a comment after any token is kept, the trees stay the same and formatting is idempotent", () => {
    const arb = declsArb
      .map((decls) => printFile(decls, []))
      .chain((text) => {
        const lexer = createLexer();
        lexer.reset(text);
        const ends: number[] = [];
        for (let t = lexer.next(); t !== undefined; t = lexer.next()) if (t.type !== "ws") ends.push(t.offset + t.text.length);
        return fc.tuple(fc.constant(text), fc.subarray(ends, { maxLength: Math.min(12, ends.length) }));
      });
    fc.assert(
      fc.property(arb, ([text, at]) => {
        let out = "";
        let from = 0;
        at.forEach((end, k) => {
          // The next token is indented, so that no declaration keyword lands in column 1.
          out += `${text.slice(from, end)} # c${k}\n  `;
          from = end;
        });
        out += text.slice(from);
        const once = fmt(out);
        const comments = parse(once).comments.map((c) => c.text);
        expect(comments.sort()).toEqual(at.map((_, k) => `# c${k}`).sort());
        if (at.length === 0) expect(once).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});

describe("printer: comments are kept", () => {
  test("a header comment, with the blank line after it", () => {
    const text = "# Pack header\n# second line\n\nmacro a = x == 1\n";
    expect(fmt(text)).toBe(text);
    expect(fmt("# header\nmacro a = x == 1")).toBe("# header\nmacro a = x == 1\n");
  });

  test("a comment before a clause, and a trailing comment", () => {
    const text = 'rule r {\n  severity low # for now\n  # the events\n  when x == 1\n} # end\n';
    expect(fmt(text)).toBe(text);
    expect(fmt('rule r {   severity low    # for now\n# the events\n      when x == 1 }    # end')).toBe(text);
  });

  test("a comment on a rule's first line, before its closing brace, and at the end of the file", () => {
    const text = "rule r { # header\n  when x == 1\n  # nothing more\n}\n\n# the end\n";
    expect(fmt(text)).toBe(text);
    expect(fmt("rule r { # only a comment\n}\n")).toBe("rule r { # only a comment\n}\n");
    expect(fmt("rule r {\n  # only a comment\n}\n")).toBe("rule r {\n  # only a comment\n}\n");
  });

  test("a comment inside an expression or a list goes on its own line before its construct", () => {
    expect(fmt("rule r {\n  when x == 1 or # either\n    y == 2\n}")).toBe("rule r {\n  # either\n  when x == 1 or y == 2\n}\n");
    expect(fmt('# admins\nlist admins = [\n  "root", # superuser\n  "ops",\n]')).toBe('# admins\n# superuser\nlist admins = ["root", "ops"]\n');
  });

  test("comments in sequences: on steps, before the closing brace, in the until expression", () => {
    const text = [
      "rule r {",
      "  sequence by user.name within 5m { # steps",
      "    # first",
      "    a: x == 1 repeat >= 3 # three times",
      "    b: y == 2 by user.id",
      "    # dangling",
      "  } until z == 3 # until",
      "}",
      "",
    ].join("\n");
    expect(fmt(text)).toBe(text);
    expect(fmt("rule r {\n  sequence within 5m {\n    a: x == 1\n  } until z == 3 or # why\n    w == 4\n}")).toBe(
      "rule r {\n  # why\n  sequence within 5m {\n    a: x == 1\n  } until z == 3 or w == 4\n}\n",
    );
  });

  test("comments in settings and models", () => {
    const text = "settings {\n  lateness 30s # late\n  # skew\n  future_skew 5m\n}\n\nmodel m {\n  # what\n  features len(user.name)\n  train 7d # a week\n}\n";
    expect(fmt(text)).toBe(text);
  });

  test("blank lines: one between declarations, analysts' single blank lines inside rules kept, none added", () => {
    expect(fmt("macro a = 1\nmacro b = 2\n\n\n\nmacro c = 3")).toBe("macro a = 1\n\nmacro b = 2\n\nmacro c = 3\n");
    expect(fmt("rule r {\n\n  severity low\n\n\n  when x\n\n}")).toBe("rule r {\n  severity low\n\n  when x\n}\n");
  });

  test("without the source, every comment goes on a line of its own", () => {
    const r = parse("macro a = 1 # one\n# two\nmacro b = 2");
    expect(printFile(r.decls, r.comments)).toBe("macro a = 1\n\n# one\n# two\nmacro b = 2\n");
  });

  test("a file of comments only; an empty file", () => {
    expect(fmt("# just\n\n# comments")).toBe("# just\n\n# comments\n");
    expect(fmt("")).toBe("");
    expect(fmt("\n\n")).toBe("");
  });

  test("CRLF line ends become LF; comment texts lose trailing blanks", () => {
    expect(fmt("# a  \r\nmacro m = x == 1 # b \r\n")).toBe("# a\nmacro m = x == 1 # b\n");
  });
});

describe("printer: expressions and literals", () => {
  test.each([
    ["a == 1 or b == 2 and not c == 3", "a == 1 or b == 2 and not c == 3"],
    ["(a == 1 or b == 2) and c == 3", "(a == 1 or b == 2) and c == 3"],
    ["a or (b or c)", "a or (b or c)"],
    ["(a or b) or c", "a or b or c"],
    ["a and (b and c)", "a and (b and c)"],
    ["not (a and b)", "not (a and b)"],
    ["not not a", "not not a"],
    ["((a)) == ((1))", "a == 1"],
    ["(a == 1) == true", "(a == 1) == true"],
    ["(not a) in [1, 2,]", "(not a) in [1, 2]"],
    ["not a in ['x']", 'not a in ["x"]'],
    ["a not in~ list_x", "a not in~ list_x"],
    ["a ==~ 'X' and b !=~ \"y\"", 'a ==~ "X" and b !=~ "y"'],
    ["a contains ~ 'x' or b like~ 'adm*'", 'a contains~ "x" or b like~ "adm*"'],
    ["lower( a ) startswith upper(b) and len(c)>=-2.5", "lower(a) startswith upper(b) and len(c) >= -2.5"],
    ["lower(a or b) == 'x'", 'lower(a or b) == "x"'],
    ["source.ip cidr '10.0.0.0/8'", 'source.ip cidr "10.0.0.0/8"'],
    ["exists @timestamp and labels.\"odd-name\".x == $p", 'exists @timestamp and labels."odd-name".x == $p'],
    ["file.count > 5m and rule.name == null", "file.count > 5m and rule.name == null"],
    ["a.and == a.\"b\"", "a.and == a.b"],
    ["x matches /a\\/b[^\\/]+/i", "x matches /a\\/b[^\\/]+/i"],
    ["x matches /it's \\\\\\/# \"q\"/", "x matches /it's \\\\\\/# \"q\"/"],
  ])("%s", (input, expected) => {
    expect(printExpr(macroExpr(input))).toBe(expected);
    expect(fmt(`macro m = ${input}`)).toBe(`macro m = ${expected}\n`);
  });

  test("strings: double quotes, minimal escapes", () => {
    expect(printString("it's")).toBe('"it\'s"');
    expect(printString('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
    expect(printString("a\nb\tc\r\0")).toBe('"a\\nb\\tc\\r\\0"');
    expect(printString("ünï #")).toBe('"ünï #"');
  });

  test("numbers: no exponents, -0 kept", () => {
    expect(printNumber(1e21)).toBe("1000000000000000000000");
    expect(printNumber(1.5e-7)).toBe("0.00000015");
    expect(printNumber(-2.5e22)).toBe("-25000000000000000000000");
    expect(printNumber(-0)).toBe("-0");
    expect(printNumber(0.1 + 0.2)).toBe("0.30000000000000004");
    for (const n of [5e-324, Number.MAX_VALUE, 1.2345e-10]) expect(Number(printNumber(n))).toBe(n);
    expect(() => printNumber(NaN)).toThrow(RangeError);
  });

  test("quoted field segments keep their escapes", () => {
    expect(fmt('macro m = a."x\\\\y".b == 1')).toBe('macro m = a."x\\\\y".b == 1\n');
    expect(fmt('macro m = a."x\\ty" == 1')).toBe('macro m = a."x\\ty" == 1\n');
  });
});

describe("printer: the canonical form of a pack", () => {
  test("a messy but valid pack", () => {
    const messy = `# Pack header.
#   second line

macro   auth_failure=event.category=="authentication"   and (event.outcome == 'failure')
list admins = [ "root" ,'admin',
   "ops",   # on-call
]
list blocked=file( 'blocked.txt' )
param   max_tries=5
settings{lateness 30s future_skew    5m}
rule   ssh_bruteforce{ title 'SSH brute force' # short title
  severity high risk 70
    tags attack.credential_access,attack.t1110.001


  # who
  when auth_failure and ((service.name == "sshd")) and not (user.name in admins or user.name ==~ "ROOT")
  except source.ip cidr "10.0.0.0/8"
  count>=$max_tries within 10m by source.address , user.name
  suppress 10m by source.address
  then block_ip(source.ip,for:1h) dry_run,notify("soc")
  # end of rule
}
rule seq { severity low sequence by user.name within 5m { fail: auth_failure repeat >= 3
  ok: event.outcome == "success" by user.id } until event.action == "logout" }
rule quiet {severity medium when event.dataset=="heartbeat" absent for 15m by host.name}
rule new_country { severity low when auth_failure == false first seen source.geo.country_iso_code by user.name learning 7d }
rule odd { severity high when process.command_line matches /curl.*\\|\\s*sh/i anomaly logins(len(user.name)) > 0.7 then open_incident() approve }
model logins { features len(user.name), hour_of_day(@timestamp) by user.name train 7d retrain 1d }
# trailing file comment`;
    const canonical = `# Pack header.
#   second line

macro auth_failure = event.category == "authentication" and event.outcome == "failure"

# on-call
list admins = ["root", "admin", "ops"]

list blocked = file("blocked.txt")

param max_tries = 5

settings {
  lateness 30s
  future_skew 5m
}

rule ssh_bruteforce {
  title "SSH brute force" # short title
  severity high
  risk 70
  tags attack.credential_access, attack.t1110.001

  # who
  when auth_failure and service.name == "sshd" and not (user.name in admins or user.name ==~ "ROOT")
  except source.ip cidr "10.0.0.0/8"
  count >= $max_tries within 10m by source.address, user.name
  suppress 10m by source.address
  then block_ip(source.ip, for: 1h) dry_run, notify("soc")
  # end of rule
}

rule seq {
  severity low
  sequence by user.name within 5m {
    fail: auth_failure repeat >= 3
    ok: event.outcome == "success" by user.id
  } until event.action == "logout"
}

rule quiet {
  severity medium
  when event.dataset == "heartbeat"
  absent for 15m by host.name
}

rule new_country {
  severity low
  when auth_failure == false
  first seen source.geo.country_iso_code by user.name learning 7d
}

rule odd {
  severity high
  when process.command_line matches /curl.*\\|\\s*sh/i
  anomaly logins(len(user.name)) > 0.7
  then open_incident() approve
}

model logins {
  features len(user.name), hour_of_day(@timestamp)
  by user.name
  train 7d
  retrain 1d
}
# trailing file comment
`;
    expect(fmt(messy)).toBe(canonical);
    expect(fmt(canonical)).toBe(canonical);
  });

  test("the shipped pack is in canonical form", () => {
    const path = new URL("../rules/auth.vigil", import.meta.url);
    const text = readFileSync(path, "utf8");
    expect(fmt(text)).toBe(text);
  });
});

describe("formatSource", () => {
  test("a file with syntax errors is not formatted", () => {
    const r = formatSource(new SourceFile("t.vigil", "rule r {\n  when a = 1\n}"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnostics.map((d) => d.code)).toEqual(["E_SYNTAX"]);
  });

  test("never returns text that reads differently: it reports E_FORMAT instead", () => {
    // The parser splits declarations at `list`/`model`/… followed by a name, even where they
    // end an expression as a field; here the parentheses the printer drops protected it.
    for (const text of ["macro m = (x == list)\nrule r { severity low when x }", "macro m = (x == model)\nmacro n = 1"]) {
      const r = formatSource(new SourceFile("t.vigil", text));
      if (r.ok) expect(stripSpans(parse(r.text).decls)).toEqual(stripSpans(parse(text).decls));
      else expect(r.diagnostics.map((d) => d.code)).toEqual(["E_FORMAT"]);
    }
  });

  test("reports whether the text changes", () => {
    expect(formatSource(new SourceFile("t.vigil", "macro m = a==1"))).toEqual({ ok: true, text: "macro m = a == 1\n", changed: true });
    expect(formatSource(new SourceFile("t.vigil", "macro m = a == 1\n"))).toEqual({ ok: true, text: "macro m = a == 1\n", changed: false });
  });
});

describe("the design sketch's example pack", () => {
  test("checks clean and formats stably: formatting twice changes nothing", () => {
    const path = "test/fixtures/example/example.vigil";
    const text = readFileSync(path, "utf8");
    expect(loadPack([{ path, text }]).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const once = formatSource(new SourceFile(path, text));
    if (!once.ok) throw new Error(once.diagnostics.map((d) => d.message).join("; "));
    const twice = formatSource(new SourceFile(path, once.text));
    if (!twice.ok) throw new Error(twice.diagnostics.map((d) => d.message).join("; "));
    expect(twice.text).toBe(once.text);
    expect(twice.changed).toBe(false);
  });
});
