/**
 * `vigil test --properties`: property-based tests of one rule. Event streams are generated from
 * the rule's own conditions (events that match, near misses that fail one condition, noise),
 * run through the engine, and compared with a reference model of the rule's correlation kind
 * (models.ts): a count rule never fires with fewer than N matching events in its window and
 * always fires with N; suppression holds; a sequence never fires out of order or beyond its
 * span; changing a field the rule does not read never changes the result. A failure is shrunk
 * by fast-check and reported as a readable counterexample.
 */
import fc from "fast-check";
import type * as A from "../../dsl/ast.js";
import { type CompiledPack, type CompiledRule, type EventFields, parseFile, type PackFile, SourceFile } from "../../dsl/index.js";
import { type Alert, Engine } from "../../engine/index.js";
import { checkAnomalyProperties } from "./anomaly-properties.js";
import { durationMs, type PropertySpec } from "./format.js";
import { type Assignment, fieldsRead, type GenEnv, propose } from "./generate.js";
import { type ModelAlert, type ModelEvent, type ModelParams, referenceAlerts } from "./models.js";

export interface PropertyOptions {
  readonly files: readonly PackFile[];
  /** Parameter overrides the pack was loaded with (the policy). */
  readonly params?: Readonly<Record<string, string | number | boolean | null>>;
  readonly spec?: PropertySpec;
  readonly runs: number;
  readonly seed?: number;
  /** Events of the rule's positive examples: used when the conditions alone yield no match. */
  readonly seeds?: readonly EventFields[];
}

export type PropertyResult =
  | { readonly status: "passed"; readonly checked: readonly string[] }
  | { readonly status: "skipped"; readonly reason: string }
  | { readonly status: "failed"; readonly property: string; readonly counterexample: readonly string[] };

type Kind = "match" | "near" | "noise";

interface Item {
  readonly kind: Kind;
  readonly template: number;
  readonly key: number;
  readonly value: number;
  readonly vary: boolean;
  readonly gap: number;
  readonly times: number;
  readonly every: number;
  /** The event lacks the rule's suppression fields (its firing is never suppressed). */
  readonly noSuppressionKey: boolean;
}

/** Times to try as the stream's start: rules that read the clock need the right hour. */
const BASES = ["2024-05-06T10:00:00Z", "2024-05-11T03:00:00Z", "2024-05-07T20:30:00Z"].map((t) => Date.parse(t));

function packEnv(pack: CompiledPack, opts: PropertyOptions): { env: GenEnv; rules: Map<string, A.RuleDecl> } {
  const macros = new Map<string, A.Expr>();
  const params = new Map<string, A.LiteralValue>();
  const rules = new Map<string, A.RuleDecl>();
  for (const f of opts.files) {
    for (const d of parseFile(new SourceFile(f.path, f.text)).decls) {
      if (d.kind === "macro") macros.set(d.name.name, d.expr);
      else if (d.kind === "param") params.set(d.name.name, d.value.kind === "duration" ? d.value.ms : d.value.value);
      else if (d.kind === "rule") rules.set(d.name.name, d);
    }
  }
  for (const [k, v] of Object.entries(opts.params ?? {})) if (params.has(k)) params.set(k, v);
  return { env: { macros, lists: pack.lists, params }, rules };
}

function conditionOf(decl: A.RuleDecl): A.Expr | undefined {
  let expr: A.Expr | undefined;
  const span = decl.span;
  for (const c of decl.clauses) {
    if (c.kind === "when") expr = expr === undefined ? c.expr : { kind: "and", left: expr, right: c.expr, span };
    if (c.kind === "except") {
      const not: A.Expr = { kind: "not", operand: c.expr, span };
      expr = expr === undefined ? not : { kind: "and", left: expr, right: not, span };
    }
  }
  return expr;
}

/** Fields the rule reads anywhere: conditions, keys, aggregated fields, suppression, actions. */
function readSet(decl: A.RuleDecl, env: GenEnv): Set<string> {
  const out = new Set<string>(["@timestamp", "event.id"]);
  for (const c of decl.clauses) {
    if (c.kind === "when" || c.kind === "except") fieldsRead(c.expr, env, out);
    else if (c.kind === "threshold") {
      if (c.field !== undefined) out.add(c.field.path);
      c.by.forEach((b) => out.add(b.path));
    } else if (c.kind === "sequence") {
      c.by.forEach((b) => out.add(b.path));
      for (const s of c.steps) {
        fieldsRead(s.expr, env, out);
        s.by.forEach((b) => out.add(b.path));
      }
      fieldsRead(c.until, env, out);
    } else if (c.kind === "absent") c.by.forEach((b) => out.add(b.path));
    else if (c.kind === "first_seen") [...c.fields, ...c.by].forEach((b) => out.add(b.path));
    else if (c.kind === "suppress") c.by.forEach((b) => out.add(b.path));
    else if (c.kind === "then") for (const a of c.actions) for (const x of a.args) fieldsRead(x.value, env, out);
  }
  // A step reference `fail.user.name` reads `user.name` of an earlier event.
  for (const p of [...out]) {
    const dot = p.indexOf(".");
    if (dot > 0) out.add(p.slice(dot + 1));
  }
  return out;
}

function related(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

function apply(a: Assignment): EventFields {
  const f: Record<string, unknown> = {};
  for (const [k, v] of a) if (v !== undefined) f[k] = v;
  return f;
}

function runEngine(pack: CompiledPack, rule: CompiledRule, events: readonly ModelEvent[]): Alert[] {
  const alerts: Alert[] = [];
  const engine = new Engine({ ...pack, rules: [rule] }, { onAlert: (a) => alerts.push(a), now: () => Date.parse("2100-01-01T00:00:00Z") });
  events.forEach((e, i) => engine.process({ id: e.id, ts: e.ts, seq: i, fields: e.fields }));
  engine.finish();
  return alerts;
}

interface Shape {
  readonly at: number;
  readonly keys: string;
  readonly count: number;
  readonly suppressed: number;
}

const shapeOfEngine = (a: Alert): Shape => ({ at: Date.parse(a.fired_at), keys: JSON.stringify(a.keys), count: a.count, suppressed: a.suppressed });
const shapeOfModel = (a: ModelAlert): Shape => ({ at: a.at, keys: JSON.stringify(a.keys), count: a.count, suppressed: a.suppressed });
const sortShapes = (s: Shape[]) => s.sort((a, b) => a.at - b.at || (a.keys < b.keys ? -1 : a.keys > b.keys ? 1 : 0));
const sameShapes = (a: Shape[], b: Shape[]) => JSON.stringify(sortShapes(a)) === JSON.stringify(sortShapes(b));

function rel(ms: number): string {
  if (ms % 86_400_000 === 0 && ms !== 0) return `+${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms !== 0) return `+${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms !== 0) return `+${ms / 60_000}m`;
  return `+${ms / 1000}s`;
}

/** The property tests of one rule. */
export function checkProperties(pack: CompiledPack, rule: CompiledRule, opts: PropertyOptions): PropertyResult {
  if (opts.spec?.skip !== undefined) return { status: "skipped", reason: `skipped (${opts.spec.skip})` };
  const probe = new Engine({ ...pack, rules: [rule] }, { onAlert: () => undefined });
  if (probe.unsupported.some((u) => u.rule === rule.name)) {
    return { status: "skipped", reason: rule.correlation?.kind === "anomaly" ? "skipped (engine does not run anomaly rules)" : `skipped (${probe.unsupported[0]?.reason ?? "not run"})` };
  }
  const { env, rules } = packEnv(pack, opts);
  const decl = rules.get(rule.name);
  if (decl === undefined) return { status: "skipped", reason: "skipped (the rule's source was not given)" };
  const corr = rule.correlation;
  const seed = opts.seed ?? 42;

  // The model's threshold and window: the analyst's stated intent, else the rule's own.
  const model: { -readonly [K in keyof ModelParams]: ModelParams[K] } = {};
  if (opts.spec?.count !== undefined) {
    const c = opts.spec.count;
    const v = typeof c === "string" && c.startsWith("$") ? env.params.get(c.slice(1)) : c;
    if (typeof v !== "number") return { status: "failed", property: "properties.count", counterexample: [`properties.count ${JSON.stringify(c)} is not a number or a numeric $param`] };
    model.threshold = v;
  }
  if (opts.spec?.within !== undefined) {
    const w = durationMs(opts.spec.within);
    if (w === undefined) return { status: "failed", property: "properties.within", counterexample: [`properties.within ${JSON.stringify(opts.spec.within)} is not a duration like 10m`] };
    model.windowMs = w;
  }

  // Templates: per step for sequences, else one list; each template satisfies the rule (and step).
  const conds = conditionOf(decl);
  const seqDecl = decl.clauses.find((c): c is A.SequenceClause => c.kind === "sequence");
  const stepConds: (A.Expr | undefined)[] = seqDecl === undefined ? [conds] : seqDecl.steps.map((s) => (conds === undefined ? s.expr : { kind: "and", left: conds, right: s.expr, span: decl.span }));
  const truth: A.Expr = { kind: "literal", value: true, span: decl.span };
  let base = BASES[0]!;
  const stepTemplates: EventFields[][] = [];
  const seeds = opts.seeds ?? [];
  const matchesStep = (f: EventFields, i: number, prev: EventFields[]) => {
    if (!rule.match(f)) return false;
    if (corr?.kind !== "sequence") return true;
    corr.slot.events = prev;
    const ok = corr.steps[i]!.match(f);
    corr.slot.events = [];
    return ok;
  };
  for (const b of BASES) {
    base = b;
    stepTemplates.length = 0;
    const at = new Date(b).toISOString();
    let ok = true;
    stepConds.forEach((cond, i) => {
      const prev = stepTemplates.map((t) => t[0]!);
      const samples = fc.sample(propose(cond ?? truth, true, env), { numRuns: 300, seed: seed + i });
      const found: EventFields[] = [];
      const keysSeen = new Set<string>();
      // The examples' events first: a step that reads an earlier step's field (`user.name ==
      // fail.user.name`) matches the earlier step's template when both come from one example.
      for (const s of [...seeds.map((x) => ({ ...x })), ...samples.map(apply)]) {
        const f = { ...s, "@timestamp": at } as EventFields;
        const sig = JSON.stringify(f);
        if (keysSeen.has(sig) || !matchesStep(f, i, prev)) continue;
        keysSeen.add(sig);
        found.push(f);
        if (found.length >= 6) break;
      }
      if (found.length === 0) ok = false;
      stepTemplates.push(found);
    });
    if (ok) break;
  }
  if (stepTemplates.some((t) => t.length === 0)) return { status: "skipped", reason: "skipped (no event matching the rule could be generated from its conditions or examples)" };

  // Near misses: a matching template with one read field changed or removed, no longer matching.
  const read = readSet(decl, env);
  const near: EventFields[] = [];
  for (const t of stepTemplates.flat()) {
    for (const k of Object.keys(t)) {
      if (k === "@timestamp") continue;
      for (const v of [undefined, "zz-near-miss", -1]) {
        const f = { ...t } as Record<string, unknown>;
        if (v === undefined) delete f[k];
        else f[k] = v;
        if (!rule.match(f)) near.push(f);
        if (near.length >= 12) break;
      }
    }
  }
  const noise: EventFields[] = [{ "event.category": "vigil-noise", message: "unrelated" }, { "event.dataset": "vigil.noise", "user.name": "nobody" }].filter((f) => !rule.match(f));
  // Anomaly rules: no reference model of the forest's judgement; the invariants that hold (anomaly-properties.ts).
  if (corr?.kind === "anomaly") return checkAnomalyProperties(pack, rule, decl, env, stepTemplates[0]!, [...near, ...noise], read, base, opts);

  // Key fields, aggregated and value fields take values from small pools so that keys collide.
  const keyPaths = corr === undefined ? [] : corr.kind === "sequence" ? corr.steps[0]!.by.map((k) => k.path) : corr.by.map((k) => k.path);
  const stepKeyPaths = corr?.kind === "sequence" ? corr.steps.map((s) => s.by.map((k) => k.path)) : [];
  // Suppression fields come from a pool too, and are sometimes missing.
  const supPaths = (rule.suppress?.by ?? []).map((k) => k.path).filter((p) => !keyPaths.includes(p));
  const valuePaths = corr?.kind === "threshold" && corr.field !== undefined ? [corr.field.path] : corr?.kind === "first_seen" ? corr.fields.map((k) => k.path) : [];
  const numeric = corr?.kind === "threshold" && corr.agg !== "count" && corr.agg !== "distinct";
  // Events it takes to fire: the threshold for count and distinct; for sum/avg/min/max, values are
  // scaled so that about three cross it.
  const n = numeric ? 4 : (model.threshold ?? (corr?.kind === "threshold" ? corr.value : corr?.kind === "sequence" ? corr.steps.reduce((s, x) => s + x.repeat, 0) : 3));
  const scaleMs = model.windowMs ?? (corr?.kind === "threshold" || corr?.kind === "sequence" ? corr.windowMs : corr?.kind === "absent" ? corr.forMs : corr?.kind === "first_seen" ? Math.max(corr.learningMs, 60_000) : rule.suppress?.ms ?? 60_000);
  const bigN = n > 50;
  // Long thresholds and sequences: items are bursts of events, so that N in a window is common.
  const burst = n > 3;
  const stepAt = corr?.kind === "sequence" ? corr.steps.flatMap((x, i) => Array.from({ length: x.repeat }, () => i)) : [0];
  const runs = bigN ? Math.max(5, Math.min(opts.runs, Math.floor(20_000 / n))) : opts.runs;
  const unit = numeric ? Math.max(1, Math.ceil(Math.abs(model.threshold ?? corr.value) / 3)) : 1;
  const poolValue = (i: number) => (numeric ? (1 + (i % 3)) * unit : `v${i}`);
  const templateValues = valuePaths.map((p) => [...new Set(stepTemplates.flat().map((t) => t[p]).filter((v) => v !== undefined))]);

  const itemArb: fc.Arbitrary<Item> = fc.record({
    kind: fc.constantFrom<Kind>("match", "match", "match", "near", "noise"),
    template: fc.nat(40),
    key: fc.nat(1),
    value: fc.nat(bigN ? 3 : n + 2),
    vary: fc.boolean(),
    gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: Math.max(1, Math.floor(scaleMs / Math.max(1, n))) }), fc.integer({ min: Math.floor(scaleMs / 2), max: scaleMs + 1000 })),
    times: burst ? fc.oneof(fc.constant(1), fc.constant(n - 1), fc.constant(n), fc.integer({ min: 1, max: n + 1 })) : fc.integer({ min: 1, max: 2 }),
    every: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: Math.max(1, Math.floor(scaleMs / Math.max(1, n))) })),
    noSuppressionKey: supPaths.length === 0 ? fc.constant(false) : fc.constantFrom(false, false, false, true),
  });
  const maxItems = burst ? 6 : Math.min(3 * n + 6, 40);

  const build = (items: readonly Item[]): ModelEvent[] => {
    const out: ModelEvent[] = [];
    let t = base;
    let seqStep = 0;
    items.forEach((it) => {
      t += it.gap;
      for (let j = 0; j < it.times; j++) {
        if (j > 0) t += it.every;
        let fields: Record<string, unknown>;
        let step = 0;
        if (it.kind === "match") {
          step = stepAt[seqStep++ % stepAt.length]!;
          const ts = stepTemplates[step]!;
          fields = { ...ts[it.template % ts.length]! };
        } else if (it.kind === "near" && near.length > 0) fields = { ...near[it.template % near.length]! };
        else fields = { ...(noise[it.template % Math.max(1, noise.length)] ?? {}) };
        const paths = stepKeyPaths.length > 0 ? (stepKeyPaths[step] ?? keyPaths) : keyPaths;
        for (const p of paths) fields[p] = `k${it.key}`;
        for (const p of valuePaths) fields[p] = poolValue(it.vary ? it.value + j : it.value);
        for (const p of supPaths) {
          if (it.noSuppressionKey) delete fields[p];
          else fields[p] = `s${it.key}`;
        }
        fields["@timestamp"] = new Date(t).toISOString();
        // A key or value may break a condition (e.g. `user.name in admin_accounts`): keep the template's then,
        // with the aggregated value drawn from the values the templates hold that the rule accepts
        // (`distinct(url.path)` where `url.path in list`: the pool is the list's members).
        if (it.kind === "match" && !rule.match(fields)) {
          const ts = stepTemplates[step]!;
          const kept = fields;
          fields = { ...ts[it.template % ts.length]!, "@timestamp": fields["@timestamp"] };
          const withPools: Record<string, unknown> = { ...fields };
          for (const p of [...paths, ...supPaths]) withPools[p] = kept[p];
          valuePaths.forEach((p, k) => {
            const vs = templateValues[k]!;
            if (vs.length > 1) withPools[p] = vs[(it.vary ? it.value + j : it.value) % vs.length];
          });
          if (rule.match(withPools)) fields = withPools;
        }
        out.push({ id: `e${out.length + 1}`, ts: t, fields: fields });
      }
    });
    return out;
  };

  const describe = (events: readonly ModelEvent[]): string[] => {
    const show = [...new Set([...keyPaths, ...stepKeyPaths.flat(), ...valuePaths])];
    return events.map((e, i) => {
      const m = rule.match(e.fields) ? "match" : "no match";
      const kv = show.map((p) => `${p}=${String(e.fields[p])}`).join(" ");
      return `#${i + 1} ${rel(e.ts - base).padEnd(8)} ${m.padEnd(8)} ${kv}`.trimEnd();
    });
  };
  const showAlerts = (s: Shape[]): string => (s.length === 0 ? "no alert" : sortShapes(s).map((a) => `${a.keys} count ${a.count} at ${rel(a.at - base)}${a.suppressed > 0 ? ` (+${a.suppressed} suppressed)` : ""}`).join("; "));

  const kindText =
    corr === undefined
      ? "every matching event fires (within suppression)"
      : corr.kind === "threshold"
        ? corr.agg === "count"
          ? `a count rule fires exactly when ${n} matching events fall within ${rel(model.windowMs ?? corr.windowMs).slice(1)} for one key, never with fewer`
          : `a ${corr.agg} rule fires exactly when the ${corr.agg} over ${rel(model.windowMs ?? corr.windowMs).slice(1)} for one key crosses ${model.threshold ?? corr.value}`
        : corr.kind === "sequence"
          ? `a sequence fires only on its steps in order within ${rel(model.windowMs ?? corr.windowMs).slice(1)}, and always on such a match`
          : corr.kind === "absent"
            ? `an absence fires once per silence longer than ${rel(model.windowMs ?? corr.forMs).slice(1)}`
            : `first seen fires on each new value after learning`;
  const checked = [kindText + " (reference model)", ...(rule.suppress !== undefined ? [`suppression ${rel(rule.suppress.ms).slice(1)}`] : []), "a change to a field the rule does not read changes nothing"];
  const latenessMs = pack.settings.latenessMs;

  // Property 1: the engine raises exactly the reference model's alerts.
  let failure: string[] | undefined;
  let firing = 0;
  let total = 0;
  const p1 = fc.property(fc.array(itemArb, { minLength: 1, maxLength: maxItems }), (items) => {
    const events = build(items);
    const got = runEngine(pack, rule, events).map(shapeOfEngine);
    const want = referenceAlerts(rule, events, latenessMs, model).map(shapeOfModel);
    total++;
    if (want.length > 0) firing++;
    if (sameShapes(got, want)) return true;
    failure = [...describe(events), `expected (reference model): ${showAlerts(want)}`, `got (engine): ${showAlerts(got)}`];
    return false;
  });
  const r1 = fc.check(p1, { numRuns: runs, seed });
  if (r1.failed) {
    const extra = r1.errorInstance instanceof Error ? [`error: ${r1.errorInstance.message}`] : [];
    if (r1.counterexample !== null) p1.run(r1.counterexample); // describe the shrunk counterexample itself
    return { status: "failed", property: kindText + (rule.suppress !== undefined ? ", within suppression" : ""), counterexample: [`counterexample (shrunk ${r1.numShrinks} times; seed ${seed}):`, ...(failure ?? []), ...extra] };
  }

  // Property 2: a field the rule does not read never changes the result.
  const unread = ["labels.vigil_noise", "message", "host.name", "user_agent.original", "url.path", "process.name"].filter((p) => ![...read].some((r) => related(p, r)));
  const p2 = fc.property(fc.array(itemArb, { minLength: 1, maxLength: maxItems }), fc.constantFrom(...unread), fc.string({ maxLength: 6 }), fc.nat(), (items, path, val, mask) => {
    const events = build(items);
    const mutated = events.map((e, i) => ((mask >> i % 30) & 1 ? { ...e, fields: { ...e.fields, [path]: `x${val}` } } : e));
    const a = runEngine(pack, rule, events).map((x) => x.id);
    const b = runEngine(pack, rule, mutated).map((x) => x.id);
    if (JSON.stringify(a) === JSON.stringify(b)) return true;
    failure = [`changing ${path} (not read by the rule) changed the alerts`, ...describe(mutated), `before: ${a.length} alerts, after: ${b.length}`];
    return false;
  });
  const r2 = fc.check(p2, { numRuns: Math.max(5, Math.floor(runs / 2)), seed });
  if (r2.failed) return { status: "failed", property: "a change to a field the rule does not read never changes the result", counterexample: [`counterexample (shrunk ${r2.numShrinks} times; seed ${seed}):`, ...(failure ?? [])] };
  return { status: "passed", checked: [...checked, `${firing} of ${total} streams raised alerts`] };
}

