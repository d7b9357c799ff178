/**
 * Property tests of `anomaly` rules. An isolation forest has no simple reference model to
 * compare alerts with (which event is "anomalous" is the forest's own judgement), so these
 * check the invariants that hold whatever the forest decides:
 *
 * - determinism: the same stream gives the same alerts with the same scores;
 * - the baseline: no key is scored (so none fires) before its `train` period has passed since
 *   its first matching event; every alert's value is a calibrated score in [0, 1] that crosses
 *   the rule's threshold, and its keys are the trigger event's `by` values;
 * - events the rule does not match (near misses, noise) change nothing;
 * - a field the rule does not read (in conditions, keys, the model's features) changes nothing.
 *
 * Streams are long enough to train: per key, more than the minimum baseline rows spread over
 * 1.6 × the `train` period, feature values drawn at random, with occasional outliers, so that
 * the firing path is exercised.
 */
import fc from "fast-check";
import type * as A from "../../dsl/ast.js";
import { type CompiledPack, type CompiledRule, type EventFields, parseFile, SourceFile } from "../../dsl/index.js";
import { type Alert, Engine } from "../../engine/index.js";
import { fieldsRead, type GenEnv } from "./generate.js";
import type { PropertyOptions, PropertyResult } from "./properties.js";

const DAY_MS = 86_400_000;
/** The engine's default fewest baseline rows (engine/anomaly/scorer.ts, `minRows`). */
const MIN_ROWS = 64;

interface AItem {
  readonly kind: string;
  readonly template: number;
  readonly key: number;
  /** Offset from the stream's start (ms). */
  readonly at: number;
  /** One value per feature field. */
  readonly values: readonly number[];
}

interface Ev {
  readonly id: string;
  readonly ts: number;
  readonly fields: EventFields;
}

function run(pack: CompiledPack, rule: CompiledRule, events: readonly Ev[]): Alert[] {
  const alerts: Alert[] = [];
  const engine = new Engine({ ...pack, rules: [rule] }, { onAlert: (a) => alerts.push(a), now: () => Date.parse("2100-01-01T00:00:00Z") });
  events.forEach((e, i) => engine.process({ id: e.id, ts: e.ts, seq: i, fields: { ...e.fields, "event.id": e.id } }));
  engine.finish();
  return alerts;
}

const sig = (alerts: readonly Alert[]) => JSON.stringify(alerts.map((a) => [a.evidence.event_ids[0], a.value, a.keys]));

function crosses(v: number, op: string, t: number): boolean {
  return op === ">" ? v > t : op === ">=" ? v >= t : op === "<" ? v < t : op === "<=" ? v <= t : false;
}

/** The model declaration's features and `by` fields (or the rule's inline features). */
function modelFields(opts: PropertyOptions, decl: A.RuleDecl, env: GenEnv): { features: Set<string>; by: string[] } {
  const clause = decl.clauses.find((c): c is A.AnomalyClause => c.kind === "anomaly");
  const features = new Set<string>();
  let by: string[] = [];
  for (const f of opts.files) {
    for (const d of parseFile(new SourceFile(f.path, f.text)).decls) {
      if (d.kind !== "model" || d.name.name !== clause?.model.name) continue;
      for (const c of d.clauses) {
        if (c.kind === "features" && clause.features === undefined) c.features.forEach((x) => fieldsRead(x, env, features));
        if (c.kind === "by") by = c.by.map((b) => b.path);
      }
    }
  }
  clause?.features?.forEach((x) => fieldsRead(x, env, features));
  features.delete("@timestamp");
  return { features, by };
}

export function checkAnomalyProperties(
  pack: CompiledPack,
  rule: CompiledRule,
  decl: A.RuleDecl,
  env: GenEnv,
  templates: readonly EventFields[],
  others: readonly EventFields[],
  read: ReadonlySet<string>,
  base: number,
  opts: PropertyOptions,
): PropertyResult {
  const corr = rule.correlation;
  if (corr?.kind !== "anomaly") return { status: "skipped", reason: "skipped (not an anomaly rule)" };
  const model = pack.models.get(corr.model);
  if (model === undefined) return { status: "skipped", reason: `skipped (model ${corr.model} is not in the pack)` };
  const seed = opts.seed ?? 42;
  const trainMs = model.trainMs ?? DAY_MS;
  const { features, by } = modelFields(opts, decl, env);
  const featurePaths = [...features];
  const allRead = new Set([...read, ...features, ...by]);
  // Enough events per key to train, spread over 1.6 train periods; runs capped (each trains forests).
  const perKey = 2 * MIN_ROWS;
  const keys = by.length === 0 ? 1 : 2;
  const n = perKey * keys;
  const span = 1.6 * trainMs;
  const runs = Math.max(5, Math.min(opts.runs, 25));

  const itemArb = fc.record({
    kind: fc.constantFrom("match", "match", "match", "match", "match", "match", "other"),
    template: fc.nat(40),
    key: fc.nat(keys - 1),
    at: fc.integer({ min: 0, max: Math.floor(span) }),
    values: fc.array(fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 100, max: 5000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1_000_000, max: 100_000_000 }) }), { minLength: featurePaths.length, maxLength: featurePaths.length }),
  });
  const streamArb = fc.array(itemArb, { minLength: n, maxLength: n + 40 });

  const build = (items: readonly AItem[]): Ev[] => {
    const sorted = [...items].sort((a, b) => a.at - b.at);
    return sorted.map((it, i) => {
      const ts = base + it.at;
      if (it.kind === "other" && others.length > 0) return { id: `e${i + 1}`, ts, fields: { ...others[it.template % others.length]!, "@timestamp": new Date(ts).toISOString() } };
      const t = templates[it.template % templates.length]!;
      const f: Record<string, unknown> = { ...t };
      by.forEach((p) => (f[p] = `k${it.key}`));
      featurePaths.forEach((p, j) => (f[p] = it.values[j]));
      f["@timestamp"] = new Date(ts).toISOString();
      // A generated value may break a condition: keep the template's fields then.
      return { id: `e${i + 1}`, ts, fields: (rule.match(f) ? f : { ...t, "@timestamp": f["@timestamp"] }) };
    });
  };

  let failure: string[] = [];
  let firing = 0;
  let total = 0;
  const p1 = fc.property(streamArb, (items) => {
    const events = build(items);
    const a = run(pack, rule, events);
    const b = run(pack, rule, events);
    total++;
    if (a.length > 0) firing++;
    if (sig(a) !== sig(b)) {
      failure = [`the same ${events.length} events gave ${a.length} alerts, then ${b.length} (or different scores)`];
      return false;
    }
    const firstSeen = new Map<string, number>();
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const e of events) {
      if (!rule.match(e.fields)) continue;
      const k = JSON.stringify(by.map((p) => e.fields[p]));
      if (!firstSeen.has(k)) firstSeen.set(k, e.ts);
    }
    for (const al of a) {
      const ev = byId.get(al.evidence.event_ids[0] ?? "");
      const k = JSON.stringify(by.map((p) => ev?.fields[p]));
      const start = firstSeen.get(k);
      const problems: string[] = [];
      if (ev === undefined || !rule.match(ev.fields)) problems.push("fired on an event the rule does not match");
      else if (start === undefined || ev.ts < start + trainMs) problems.push(`fired ${(ev.ts - (start ?? ev.ts)) / 1000}s after the key's first event, before its train period of ${trainMs / 1000}s`);
      if (typeof al.value !== "number" || !(al.value >= 0 && al.value <= 1) || !crosses(al.value, corr.op, corr.value)) problems.push(`value ${String(al.value)} is not a calibrated score crossing ${corr.op} ${corr.value}`);
      if (JSON.stringify(by.map((p) => (al.keys as Record<string, unknown>)[p])) !== k) problems.push(`keys ${JSON.stringify(al.keys)} are not the event's ${k}`);
      if (problems.length > 0) {
        failure = [`alert on ${al.evidence.event_ids[0]}: ${problems.join("; ")}`];
        return false;
      }
    }
    // Events the rule does not match never reach the model.
    const matched = events.filter((e) => rule.match(e.fields));
    if (matched.length !== events.length) {
      const c = run(pack, rule, matched);
      if (sig(c) !== sig(a)) {
        failure = [`removing the ${events.length - matched.length} events the rule does not match changed the alerts: ${a.length} → ${c.length}`];
        return false;
      }
    }
    return true;
  });
  const kindText = "an anomaly rule: same stream, same alerts and scores; nothing fires before a key's train period; each alert's value is a calibrated score crossing the threshold, keyed by the model's by; unmatched events change nothing";
  const r1 = fc.check(p1, { numRuns: runs, seed });
  if (r1.failed) return { status: "failed", property: kindText, counterexample: [`counterexample (shrunk ${r1.numShrinks} times; seed ${seed}):`, ...failure] };

  const unread = ["labels.vigil_noise", "message", "host.name", "user_agent.original", "url.path", "process.name"].filter((p) => ![...allRead].some((r) => p === r || p.startsWith(`${r}.`) || r.startsWith(`${p}.`)));
  const p2 = fc.property(streamArb, fc.constantFrom(...unread), fc.string({ maxLength: 6 }), fc.nat(), (items, path, val, mask) => {
    const events = build(items);
    const mutated = events.map((e, i) => ((mask >> i % 30) & 1 ? { ...e, fields: { ...e.fields, [path]: `x${val}` } } : e));
    const a = run(pack, rule, events);
    const b = run(pack, rule, mutated);
    if (sig(a) === sig(b)) return true;
    failure = [`changing ${path} (read neither by the rule nor by its model) changed the alerts: ${a.length} → ${b.length}`];
    return false;
  });
  const r2 = fc.check(p2, { numRuns: Math.max(3, Math.floor(runs / 3)), seed });
  if (r2.failed) return { status: "failed", property: "a change to a field the rule does not read never changes the result", counterexample: [`counterexample (shrunk ${r2.numShrinks} times; seed ${seed}):`, ...failure] };
  return { status: "passed", checked: [kindText, "a change to a field the rule and its model do not read changes nothing", `${firing} of ${total} streams raised alerts`] };
}
