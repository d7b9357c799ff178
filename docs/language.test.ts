/**
 * Keeps the language manual (docs/language.md) true: every `vigil` example loads without
 * errors, every `vigil-error` example produces the error it names, every diagnostic code the
 * checker can emit is documented, and so are the functions, actions and settings the language
 * knows. Also checks the example pack of the design sketch (test/fixtures/example).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { SETTINGS } from "../dsl/check/declarations.js";
import { ACTION_CATALOGUE, FUNCTIONS, loadPack, type Diagnostic } from "../dsl/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MANUAL_PATH = join(ROOT, "docs/language.md");
const MANUAL = readFileSync(MANUAL_PATH, "utf8");
/** Examples load as if they lived next to the example pack, so `file("lists/…")` resolves. */
const EXAMPLE_DIR = join(ROOT, "test/fixtures/example");

interface Block {
  readonly tag: "vigil" | "vigil-error";
  readonly line: number;
  readonly text: string;
}

/** Fenced code blocks tagged `vigil` or `vigil-error`, with the manual line they start on. */
function vigilBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i] ?? "");
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ""); i++) body.push(lines[i] ?? "");
    const tag = open[1];
    if (tag === "vigil" || tag === "vigil-error") blocks.push({ tag, line: start + 1, text: `${body.join("\n")}\n` });
  }
  return blocks;
}

const show = (d: Diagnostic) => `${d.line}:${d.col}: ${d.severity}: ${d.message} [${d.code}]`;

function load(block: Block): readonly Diagnostic[] {
  const path = join(EXAMPLE_DIR, `language-md-line-${block.line}.vigil`);
  return loadPack([{ path, text: block.text }]).diagnostics;
}

const blocks = vigilBlocks(MANUAL);

describe("docs/language.md examples", () => {
  test("the manual has examples of both kinds", () => {
    expect(blocks.filter((b) => b.tag === "vigil").length).toBeGreaterThan(20);
    expect(blocks.filter((b) => b.tag === "vigil-error").length).toBeGreaterThan(10);
  });

  test.each(blocks.filter((b) => b.tag === "vigil").map((b) => [b.line, b] as const))("```vigil at line %i checks without errors", (_line, block) => {
    const errors = load(block).filter((d) => d.severity === "error");
    expect(errors.map(show)).toEqual([]);
  });

  test.each(blocks.filter((b) => b.tag === "vigil-error").map((b) => [b.line, b] as const))(
    "```vigil-error at line %i gives the error its first line names",
    (_line, block) => {
      const first = block.text.split("\n")[0] ?? "";
      const named = /^#\s*error:\s*(.+)$/.exec(first);
      expect(named, `the first line of a vigil-error block is "# error: E_CODE", got "${first}"`).not.toBeNull();
      const codes = (named?.[1] ?? "").split(",").map((c) => c.trim());
      const got = load(block)
        .filter((d) => d.severity === "error")
        .map((d) => d.code);
      for (const code of codes) expect(got, `diagnostics: ${got.join(", ")}`).toContain(code);
    },
  );
});

/** The non-test TypeScript sources of dsl/. */
function dslSources(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) out.push({ path: p, text: readFileSync(p, "utf8") });
    }
  };
  walk(join(ROOT, "dsl"));
  return out;
}

/** The section of the manual that lists the diagnostic codes. */
function diagnosticsSection(): string {
  const start = MANUAL.indexOf("\n## Diagnostics");
  expect(start, "docs/language.md has a '## Diagnostics' section").toBeGreaterThan(-1);
  const next = MANUAL.indexOf("\n## ", start + 1);
  return MANUAL.slice(start, next === -1 ? undefined : next);
}

/** A parameter default as the manual writes it: durations (held in ms) in their largest whole unit. */
function defaultText(type: string, v: string | number | boolean): string {
  if (type !== "duration" || typeof v !== "number") return String(v);
  const units: [string, number][] = [["w", 604_800_000], ["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]];
  for (const [unit, ms] of units) if (v % ms === 0) return `${v / ms}${unit}`;
  return `${v}ms`;
}

describe("docs/language.md stays true to the implementation", () => {
  test("every diagnostic code the parser and checker emit is documented", () => {
    // The code is the first double-quoted string of each ctx.error(…), ctx.warn(…) and
    // makeDiagnostic(…) call (the arguments before it are positions and spans).
    const call = /(?:ctx\.error|ctx\.warn|makeDiagnostic)\(\s*[^"]*?"([EW]_[A-Z_]+)"/g;
    const codes = new Set<string>();
    const literals = new Set<string>();
    for (const { text } of dslSources()) {
      for (const m of text.matchAll(call)) codes.add(m[1] as string);
      for (const m of text.matchAll(/"([EW]_[A-Z][A-Z_]+)"/g)) literals.add(m[1] as string);
    }
    expect(codes.size).toBeGreaterThan(40);
    // Codes handed to a reporter some other way (a constant, a table) must be documented too.
    const section = diagnosticsSection();
    const undocumented = [...new Set([...codes, ...literals])].filter((c) => !section.includes(`\`${c}\``)).sort();
    expect(undocumented).toEqual([]);
  });

  test("every function is documented with its arity", () => {
    for (const fn of FUNCTIONS.values()) {
      const row = MANUAL.split("\n").find((l) => l.startsWith(`| \`${fn.name}(`));
      expect(row, `a table row for ${fn.name}`).toBeDefined();
      expect(row).toContain(`| ${fn.arity} |`);
      expect(row).toContain(`| ${fn.returns} |`);
    }
  });

  test("every action of the catalogue is documented with its parameters", () => {
    for (const action of ACTION_CATALOGUE.values()) {
      const row = MANUAL.split("\n").find((l) => l.startsWith(`| \`${action.name}(`));
      expect(row, `a table row for ${action.name}`).toBeDefined();
      expect(row).toContain(`\`${action.name}(${action.params.map((p) => p.name).join(", ")})\``);
      for (const p of action.params) {
        const how = p.required ? "required" : p.default === undefined ? "optional" : `default \`${defaultText(p.type, p.default)}\``;
        expect(row).toContain(`\`${p.name}\`: ${p.type}, ${how}`);
      }
    }
  });

  test("every setting is documented", () => {
    for (const [name, kind] of Object.entries(SETTINGS)) {
      const row = MANUAL.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, `a table row for setting ${name}`).toBeDefined();
      expect(row).toContain(kind);
    }
  });
});

test("the example pack of the design sketch checks without errors", () => {
  const path = join(EXAMPLE_DIR, "example.vigil");
  const pack = loadPack([{ path, text: readFileSync(path, "utf8") }]);
  expect(pack.diagnostics.filter((d) => d.severity === "error").map(show)).toEqual([]);
  expect(pack.rules.map((r) => r.name)).toEqual([
    "ssh_bruteforce",
    "password_spray",
    "bruteforce_then_success",
    "admin_login_from_tor",
    "new_country_for_user",
    "heartbeat_lost",
    "login_outlier",
  ]);
  expect([...pack.models.keys()]).toEqual(["login_behaviour"]);
});
