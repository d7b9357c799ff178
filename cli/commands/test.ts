/**
 * `vigil test [PATH...]`: runs the rules' example tests (`*.tests.yaml` beside the packs), prints
 * a result per rule and a coverage table (rules with tests, MITRE ATT&CK techniques covered);
 * with `--properties`, also the property-based tests of each rule's correlation kind. Exit 1 on
 * any failure (a failing case or property, a broken rule, an unreadable test file).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { type CompiledPack, type CompiledRule, formatDiagnostic, loadPack, type PackFile } from "../../dsl/index.js";
import { didYouMean } from "../../dsl/suggest.js";
import type { Io } from "../io.js";
import { collectPackFiles, defaultRulesPath } from "../pack-files.js";
import { loadPolicyFile, type PolicyParams } from "../policy.js";
import { runCase } from "../ruletest/examples.js";
import { parseTestFile, type RuleTests, type TestFile } from "../ruletest/format.js";
import { checkProperties } from "../ruletest/properties.js";

export interface TestOptions {
  readonly properties?: boolean;
  /** fast-check runs per property. */
  readonly runs?: number;
  readonly seed?: number;
  /** Every rule must have a positive and a negative example. */
  readonly strict?: boolean;
  readonly policy?: string;
}

const ANOMALY_SKIP = "skipped (engine does not run anomaly rules)";

/** Pack files and test files for the paths: directories recursively; a .vigil file brings its sibling .tests.yaml. */
function collect(paths: readonly string[]): { pack: PackFile[]; tests: string[] } {
  const packPaths = new Set<string>();
  const tests = new Set<string>();
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) {
      packPaths.add(p);
      for (const name of readdirSync(p).sort()) {
        const child = join(p, name);
        if (statSync(child).isDirectory()) {
          if (name !== "node_modules" && !name.startsWith(".")) walk(child);
        } else if (name.endsWith(".tests.yaml") || name.endsWith(".tests.yml")) tests.add(child);
      }
    } else if (p.endsWith(".vigil")) {
      packPaths.add(p);
      const sib = join(dirname(p), `${basename(p, ".vigil")}.tests.yaml`);
      if (existsSync(sib)) tests.add(sib);
    } else {
      tests.add(p);
      packPaths.add(dirname(p));
    }
  };
  for (const p of paths) walk(p);
  // A directory given together with files inside it: collect its .vigil files once.
  const pack = collectPackFiles([...packPaths]);
  const seen = new Set<string>();
  return { pack: pack.filter((f) => (seen.has(f.path) ? false : (seen.add(f.path), true))), tests: [...tests] };
}

function techniques(rule: CompiledRule): string[] {
  return rule.tags.filter((t) => /^attack\.t\d{4}(\.\d{3})?$/i.test(t)).map((t) => t.slice(7).toUpperCase());
}

export function runTest(paths: readonly string[], opts: TestOptions, io: Io): number {
  let params: PolicyParams | undefined;
  try {
    params = opts.policy === undefined ? undefined : loadPolicyFile(opts.policy);
  } catch (e) {
    io.err((e as Error).message);
    return 1;
  }
  let files: { pack: PackFile[]; tests: string[] };
  try {
    files = collect(paths.length > 0 ? paths : [defaultRulesPath(undefined)]);
  } catch (e) {
    io.err(`vigil test: ${(e as Error).message}`);
    return 1;
  }
  const pack: CompiledPack = loadPack(files.pack, { params });
  let failed = 0;
  for (const d of pack.diagnostics) {
    io.err(formatDiagnostic(d));
    if (d.severity === "error") failed++;
  }
  const testFiles: TestFile[] = files.tests.map((p) => parseTestFile(p, readFileSync(p, "utf8")));
  for (const tf of testFiles) {
    for (const e of tf.errors) {
      io.err(e);
      failed++;
    }
  }
  const brokenTests = new Set(testFiles.flatMap((tf) => tf.brokenRules));
  const byRule = new Map<string, RuleTests[]>();
  for (const tf of testFiles) for (const rt of tf.rules) byRule.set(rt.rule, [...(byRule.get(rt.rule) ?? []), rt]);
  const rules = new Map(pack.rules.map((r) => [r.name, r]));
  for (const name of byRule.keys()) {
    if (!rules.has(name)) {
      io.out(`FAIL ${name}: tests name a rule that is not in the pack${pack.broken.includes(name) ? " (it has errors)" : didYouMean(name, rules.keys())}`);
      failed++;
    }
  }

  interface Row {
    file: string;
    rule: CompiledRule;
    positive: number;
    negative: number;
    passed: boolean;
    skipped: boolean;
  }
  const rows: Row[] = [];
  for (const rule of pack.rules) {
    const suites = byRule.get(rule.name) ?? [];
    const cases = suites.flatMap((s) => s.cases);
    const row: Row = { file: basename(rule.location.file), rule, positive: 0, negative: 0, passed: true, skipped: false };
    rows.push(row);
    const lines: string[] = [];
    let skipped: string | undefined;
    for (const c of cases) {
      const r = runCase(pack, rule, c);
      if ("skipped" in r) {
        skipped = r.skipped;
        break;
      }
      if (r.positive) row.positive++;
      else row.negative++;
      if (!r.ok) {
        row.passed = false;
        lines.push(`  case "${r.name}":`, ...r.diff.map((l) => `    ${l}`));
      }
    }
    if (skipped !== undefined) {
      row.skipped = true;
      row.positive = cases.filter((c) => c.expect.length > 0).length;
      row.negative = cases.length - row.positive;
      io.out(`SKIP ${rule.name}: ${rule.correlation?.kind === "anomaly" ? ANOMALY_SKIP : `skipped (${skipped})`}`);
      continue;
    }
    if (brokenTests.has(rule.name)) {
      // Its errors were printed and counted above; its readable cases (if any) still ran.
      io.out(`FAIL ${rule.name}: its tests could not all be read (see the errors above)${cases.length === 0 ? "" : `; ${cases.length} case${cases.length === 1 ? "" : "s"} ran${row.passed ? " and passed" : ""}`}`);
      for (const l of lines) io.out(l);
      continue;
    }
    if (cases.length === 0) {
      if (opts.strict) {
        failed++;
        io.out(`FAIL ${rule.name}: no example tests (--strict needs a positive and a negative example)`);
      } else io.out(`---- ${rule.name}: no example tests`);
    } else if (row.passed) io.out(`ok   ${rule.name} (${cases.length} case${cases.length === 1 ? "" : "s"})`);
    else {
      failed++;
      io.out(`FAIL ${rule.name}`);
      for (const l of lines) io.out(l);
    }
    if (opts.strict && cases.length > 0 && (row.positive === 0 || row.negative === 0)) {
      failed++;
      io.out(`FAIL ${rule.name}: needs at least one positive and one negative example (has ${row.positive} positive, ${row.negative} negative)`);
    }
  }

  const propertySkips = new Set<string>();
  if (opts.properties) {
    io.out("");
    io.out("properties");
    for (const rule of pack.rules) {
      const spec = byRule.get(rule.name)?.find((s) => s.properties !== undefined)?.properties;
      const seeds = (byRule.get(rule.name) ?? []).flatMap((s) => s.cases.filter((c) => c.expect.length > 0).flatMap((c) => c.events.map((e) => e.fields)));
      const r = checkProperties(pack, rule, { files: files.pack, params, spec, runs: spec?.runs ?? opts.runs ?? 100, seed: opts.seed, seeds });
      if (r.status === "skipped") {
        propertySkips.add(rule.name);
        if (opts.strict) {
          failed++;
          io.out(`FAIL ${rule.name}: no property could be checked (${r.reason}); --strict needs them`);
        } else io.out(`SKIP ${rule.name}: ${r.reason}`);
      } else if (r.status === "passed") io.out(`ok   ${rule.name}: ${r.checked.join(", ")}`);
      else {
        failed++;
        io.out(`FAIL ${rule.name}: ${r.property}`);
        for (const l of r.counterexample) io.out(`    ${l}`);
      }
    }
  }

  // Coverage.
  io.out("");
  io.out("coverage");
  const files2 = [...new Set(rows.map((r) => r.file))].sort();
  const table: string[][] = [["pack", "rules", "tested", "positive+negative", "skipped", ...(opts.properties ? ["properties skipped"] : [])]];
  const add = (label: string, rs: Row[]) =>
    table.push([
      label,
      String(rs.length),
      String(rs.filter((r) => r.positive + r.negative > 0).length),
      String(rs.filter((r) => r.positive > 0 && r.negative > 0).length),
      String(rs.filter((r) => r.skipped).length),
      ...(opts.properties ? [String(rs.filter((r) => propertySkips.has(r.rule.name)).length)] : []),
    ]);
  for (const f of files2) add(f, rows.filter((r) => r.file === f));
  add("total", rows);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const r of table) io.out("  " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
  const all = new Set(rows.flatMap((r) => techniques(r.rule)));
  const covered = new Set(rows.filter((r) => r.positive > 0 && r.passed && !r.skipped).flatMap((r) => techniques(r.rule)));
  const missing = [...all].filter((t) => !covered.has(t)).sort();
  io.out(`  MITRE ATT&CK techniques: ${covered.size} of ${all.size} tagged are covered by a passing positive example${covered.size === 0 ? "" : `: ${[...covered].sort().join(", ")}`}`);
  if (missing.length > 0) io.out(`  not covered: ${missing.join(", ")}`);
  io.out("");
  io.out(failed === 0 ? "vigil test: all passed" : `vigil test: ${failed} failure${failed === 1 ? "" : "s"}`);
  return failed === 0 ? 0 : 1;
}
