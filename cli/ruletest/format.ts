/**
 * Rule test files (`<pack>.tests.yaml`): example cases per rule, and optional property specs.
 * The format is documented in docs/rule-testing.md. Parsing never throws: problems come back
 * as messages naming the file and the rule/case.
 */
import { LineCounter, parseDocument } from "yaml";
import type { EventFields } from "../../dsl/index.js";
import { parseEventTime } from "../../dsl/index.js";

/** Default base of relative times: a Monday, 10:00 UTC (inside office hours). */
export const DEFAULT_START = "2024-05-06T10:00:00Z";

export interface ExampleCase {
  readonly name: string;
  readonly events: readonly TestEvent[];
  /** Expected alerts of the rule, in firing order (partial records); [] for none. */
  readonly expect: readonly Readonly<Record<string, unknown>>[];
}

export interface TestEvent {
  readonly ts: number;
  readonly fields: EventFields;
}

/** What the property tests check the rule against, where the analyst states it (else the rule's own). */
export interface PropertySpec {
  /** Threshold: the number of matching events at which the rule must fire (count/distinct), or a `$param`. */
  readonly count?: number | string;
  /** Window or span, e.g. "10m". */
  readonly within?: string;
  /** Runs of fast-check (default from the command line). */
  readonly runs?: number;
  /** Skip the property tests of this rule, with the reason. */
  readonly skip?: string;
}

export interface RuleTests {
  readonly rule: string;
  readonly cases: readonly ExampleCase[];
  readonly properties: PropertySpec | undefined;
}

export interface TestFile {
  readonly path: string;
  readonly rules: readonly RuleTests[];
  /** Problems of the file, each `file:line:col: …` where the file says where. */
  readonly errors: readonly string[];
  /** Rules some of whose tests could not be read (their cases may be missing). */
  readonly brokenRules: readonly string[];
}

const DURATION = /^(\d+)(ms|s|m|h|d|w)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30s`, `5m`, … in milliseconds; undefined when not a duration. */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m === null ? undefined : Number(m[1]) * UNIT_MS[m[2]!]!;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function substitute(v: unknown, i: number): unknown {
  if (typeof v === "string") return v.includes("{i}") ? v.replaceAll("{i}", String(i)) : v;
  if (Array.isArray(v)) return v.map((x) => substitute(x, i));
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, i)]));
  return v;
}

/** Expands a case's event items (`$repeat`, `$every`, relative times, `{i}`) into timed events. */
function expandEvents(items: unknown, start: number, defaults: Record<string, unknown>, where: string, errors: string[]): TestEvent[] {
  if (!Array.isArray(items)) {
    errors.push(`${where}: 'events' must be a list of events`);
    return [];
  }
  const out: TestEvent[] = [];
  let prev = start - 1000;
  items.forEach((item, n) => {
    if (!isRecord(item)) {
      errors.push(`${where}: event #${n + 1} is not a mapping of fields`);
      return;
    }
    const { $repeat, $every, ...rest } = item;
    const repeat = $repeat === undefined ? 1 : $repeat;
    if (typeof repeat !== "number" || !Number.isInteger(repeat) || repeat < 1 || repeat > 100_000) {
      errors.push(`${where}: event #${n + 1}: $repeat must be a whole number from 1 to 100000`);
      return;
    }
    const every = $every === undefined ? 1000 : typeof $every === "string" ? durationMs($every) : undefined;
    if (every === undefined) {
      errors.push(`${where}: event #${n + 1}: $every must be a duration like 10s`);
      return;
    }
    const rawTs = rest["@timestamp"];
    let first: number | undefined;
    if (rawTs === undefined) first = prev + 1000;
    else if (typeof rawTs === "string" && /^\+/.test(rawTs)) {
      const d = durationMs(rawTs.slice(1));
      first = d === undefined ? undefined : start + d;
    } else first = parseEventTime(rawTs);
    if (first === undefined) {
      errors.push(`${where}: event #${n + 1}: @timestamp ${JSON.stringify(rawTs)} is neither RFC 3339 nor +DURATION (relative to start)`);
      return;
    }
    for (let i = 1; i <= repeat; i++) {
      const ts = first + (i - 1) * every;
      const fields = { ...defaults, ...(substitute(rest, i) as Record<string, unknown>), "@timestamp": new Date(ts).toISOString() } as EventFields;
      out.push({ ts, fields });
      prev = ts;
    }
  });
  return out;
}

function parseExpect(v: unknown, where: string, errors: string[]): Record<string, unknown>[] {
  if (v === "none" || v === null || v === 0) return [];
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return Array.from({ length: v }, () => ({}));
  if (Array.isArray(v) && v.every(isRecord)) return v;
  errors.push(`${where}: 'expect' must be none, a number of alerts, or a list of expected alerts (partial alert records)`);
  return [];
}

/** Parses a tests file's text. */
export function parseTestFile(path: string, text: string): TestFile {
  const errors: string[] = [];
  const brokenRules: string[] = [];
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length > 0) {
    return { path, rules: [], brokenRules, errors: doc.errors.map((e) => { const p = lc.linePos(e.pos[0]); return `${path}:${p.line}:${p.col}: ${e.message}`; }) };
  }
  /** `file:line:col` of the node at `keys` (else of its nearest ancestor). */
  const at = (...keys: (string | number)[]): string => {
    for (let n = keys.length; n >= 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range !== undefined) {
        const p = lc.linePos(node.range[0]);
        return `${path}:${p.line}:${p.col}`;
      }
    }
    return path;
  };
  const root: unknown = doc.toJS();
  if (!isRecord(root) || !isRecord(root.rules)) return { path, rules: [], brokenRules, errors: [`${path}: expected a mapping with 'rules:' (rule name → cases)`] };
  const fileStart = parseEventTime(root.start ?? DEFAULT_START);
  if (fileStart === undefined) errors.push(`${path}: 'start' must be an RFC 3339 time`);
  const fileDefaults = isRecord(root.defaults) ? root.defaults : {};
  const rules: RuleTests[] = [];
  for (const [rule, body] of Object.entries(root.rules)) {
    const errorsBefore = errors.length;
    const where = `${at("rules", rule)}: ${rule}`;
    if (!isRecord(body)) {
      errors.push(`${where}: expected 'cases:' (and optionally 'properties:', 'defaults:')`);
      continue;
    }
    const defaults = { ...fileDefaults, ...(isRecord(body.defaults) ? body.defaults : {}) };
    const cases: ExampleCase[] = [];
    const rawCases = body.cases ?? [];
    if (!Array.isArray(rawCases)) errors.push(`${where}: 'cases' must be a list`);
    else {
      rawCases.forEach((c, k) => {
        const here = `${at("rules", rule, "cases", k)}: ${rule}`;
        const cw = `${here}: case #${k + 1}`;
        if (!isRecord(c)) return void errors.push(`${cw}: expected a mapping with name, events, expect`);
        const name = typeof c.name === "string" ? c.name : `case #${k + 1}`;
        const start = c.start === undefined ? fileStart : parseEventTime(c.start);
        if (start === undefined) return void errors.push(`${cw}: 'start' must be an RFC 3339 time`);
        if (!("expect" in c)) return void errors.push(`${here}: case "${name}": missing 'expect' (none, a number, or a list of alerts)`);
        cases.push({
          name,
          events: expandEvents(c.events, start, defaults, `${at("rules", rule, "cases", k, "events")}: ${rule}: case "${name}"`, errors),
          expect: parseExpect(c.expect, `${at("rules", rule, "cases", k, "expect")}: ${rule}: case "${name}"`, errors),
        });
      });
    }
    let properties: PropertySpec | undefined;
    if (body.properties !== undefined) {
      if (!isRecord(body.properties)) errors.push(`${where}: 'properties' must be a mapping`);
      else properties = body.properties;
    }
    rules.push({ rule, cases, properties });
    if (errors.length > errorsBefore) brokenRules.push(rule);
  }
  return { path, rules, errors, brokenRules };
}
