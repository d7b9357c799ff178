/** Runs a rule's example cases through the engine and compares its alerts with the expected ones. */
import type { CompiledPack, CompiledRule } from "../../dsl/index.js";
import { didYouMean } from "../../dsl/suggest.js";
import { type Alert, Engine } from "../../engine/index.js";
import { alertRecord } from "../../engine/alert-record.js";
import type { ExampleCase, TestEvent } from "./format.js";

export interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  /** Why it failed, as lines a person can read (expected vs got). */
  readonly diff: readonly string[];
  readonly positive: boolean;
}

/** Runs events through an engine holding only `rule` (with the pack's lists, params, settings). */
export function runRule(pack: CompiledPack, rule: CompiledRule, events: readonly TestEvent[], idPrefix: string): { alerts: Alert[]; unsupported: string | undefined } {
  const alerts: Alert[] = [];
  const engine = new Engine({ ...pack, rules: [rule] }, { onAlert: (a) => alerts.push(a) });
  const unsupported = engine.unsupported.find((u) => u.rule === rule.name)?.reason;
  if (unsupported !== undefined) return { alerts, unsupported };
  for (const [i, e] of events.entries()) {
    const id = typeof e.fields["event.id"] === "string" ? e.fields["event.id"] : `${idPrefix}#${i + 1}`;
    engine.process({ id, ts: e.ts, seq: i, fields: { ...e.fields, "event.id": id }, source: idPrefix, position: i + 1 });
  }
  engine.finish();
  return { alerts, unsupported };
}

function show(v: unknown): string {
  return JSON.stringify(v);
}

/** Differences between an expected partial value and the actual one, as `path: expected X, got Y`. */
export function partialDiff(expected: unknown, actual: unknown, path: string, out: string[]): void {
  if (expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
      out.push(`${path}: expected ${show(expected)}, got ${show(actual)}`);
      return;
    }
    const got = actual as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected)) {
      const at = path === "" ? k : `${path}.${k}`;
      // At the top of an alert record, a key it never has is a misspelt field, not a mismatch.
      if (path === "" && !(k in got)) out.push(`${at}: an alert has no field '${k}'${didYouMean(k, Object.keys(got))}`);
      else partialDiff(v, got[k], at, out);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) out.push(`${path}: expected ${show(expected)}, got ${show(actual)}`);
    else expected.forEach((v, i) => partialDiff(v, actual[i], `${path}[${i}]`, out));
    return;
  }
  // Scalars: a number and its text compare equal (YAML reads 203.0.113.7 as text, 5 as a number).
  const scalar = (v: unknown) => typeof v === "string" || typeof v === "number" || typeof v === "boolean";
  if (expected === actual || (scalar(expected) && scalar(actual) && String(expected) === String(actual))) return;
  out.push(`${path}: expected ${show(expected)}, got ${show(actual)}`);
}

function summary(a: Alert): string {
  return `${show(a.keys)} count ${a.count}${a.value === undefined ? "" : ` value ${a.value}`} fired ${a.fired_at}${a.suppressed > 0 ? ` suppressed ${a.suppressed}` : ""}`;
}

/** Runs one example case. */
export function runCase(pack: CompiledPack, rule: CompiledRule, c: ExampleCase): CaseResult | { skipped: string } {
  const { alerts, unsupported } = runRule(pack, rule, c.events, `${rule.name}/${c.name}`);
  if (unsupported !== undefined) return { skipped: unsupported };
  const diff: string[] = [];
  if (alerts.length !== c.expect.length) {
    diff.push(`expected ${c.expect.length} alert${c.expect.length === 1 ? "" : "s"}, got ${alerts.length}`);
    for (const a of alerts) diff.push(`  got: ${summary(a)}`);
  } else {
    alerts.forEach((a, i) => {
      const lines: string[] = [];
      partialDiff(c.expect[i], alertRecord(a), "", lines);
      for (const l of lines) diff.push(`alert #${i + 1} ${l}`);
    });
  }
  return { name: c.name, ok: diff.length === 0, diff, positive: c.expect.length > 0 };
}
