import { createHash } from "node:crypto";
import { ACTION_CATALOGUE } from "../actions.js";
import type * as A from "../ast.js";
import type { Severity } from "../check/rules.js";
import { fieldReader } from "../fields.js";
import type { SourceFile } from "../source.js";
import { printDecl } from "../printer.js";
import { keyText } from "./values.js";
import { compileMatch, compilePredicate } from "./codegen.js";
import { compileValue, type CompileEnv, type Getter, type Predicate, type StepSlot } from "./conditions.js";

/** A by-key or aggregated field: its path (for alerts) and its reader. */
export interface KeySpec {
  readonly path: string;
  readonly read: Getter;
}

export interface CompiledThreshold {
  readonly kind: "threshold";
  readonly agg: A.AggregateKind;
  readonly field: KeySpec | undefined;
  readonly op: A.CompareOp;
  /** The threshold; for count and distinct, normalised so that the rule fires at `>= value`. */
  readonly value: number;
  readonly windowMs: number;
  readonly by: readonly KeySpec[];
}

export interface CompiledStep {
  readonly name: string;
  readonly match: Predicate;
  /** Matching events the step needs (from `repeat`; 1 without it). */
  readonly repeat: number;
  /** The step's join keys: its own `by`, else the sequence's. */
  readonly by: readonly KeySpec[];
}

export interface CompiledSequence {
  readonly kind: "sequence";
  /** Maximum span from the first to the last event of a match. */
  readonly windowMs: number;
  readonly steps: readonly CompiledStep[];
  /** Cancels the partial matches of the event's key (sequence-level keys, else the first step's). */
  readonly until: Predicate | undefined;
  /** The keys shown on alerts (the sequence's `by`, else the first step's). */
  readonly by: readonly KeySpec[];
  /** Filled by the engine with the events bound to the steps before it evaluates steps and actions. */
  readonly slot: StepSlot;
  /**
   * Whether a step's condition or an action reads an earlier step's fields (`fail.user.name`):
   * when none does, the engine need not keep the events bound to the steps.
   */
  readonly readsSteps: boolean;
}

export interface CompiledAbsent {
  readonly kind: "absent";
  readonly forMs: number;
  readonly by: readonly KeySpec[];
}

export interface CompiledFirstSeen {
  readonly kind: "first_seen";
  readonly fields: readonly KeySpec[];
  readonly by: readonly KeySpec[];
  readonly learningMs: number;
}

export interface CompiledAnomaly {
  readonly kind: "anomaly";
  readonly model: string;
  /** Inline features, else those of the model declaration. */
  readonly features: readonly Getter[] | undefined;
  readonly op: A.CompareOp;
  readonly value: number;
}

export type CompiledCorrelation = CompiledThreshold | CompiledSequence | CompiledAbsent | CompiledFirstSeen | CompiledAnomaly;

export interface CompiledModel {
  readonly name: string;
  /** Each feature's source text (for training metadata) and its getter. */
  readonly features: readonly { readonly text: string; readonly get: Getter }[];
  readonly by: readonly KeySpec[];
  readonly trainMs: number | undefined;
  readonly retrainMs: number | undefined;
}

export type ActionArgValue = { readonly constant: true; readonly value: unknown } | { readonly constant: false; readonly path: string; readonly get: Getter };

export interface CompiledAction {
  readonly name: string;
  readonly mode: "enforce" | A.ActionMode;
  /** Every parameter of the action by name (defaults filled in); absent optional ones are left out. */
  readonly args: ReadonlyMap<string, ActionArgValue>;
}

export interface CompiledRule {
  readonly name: string;
  readonly title: string;
  readonly description: string | undefined;
  readonly severity: Severity;
  readonly risk: number | undefined;
  readonly tags: readonly string[];
  readonly enabled: boolean;
  readonly author: string | undefined;
  readonly version: string | undefined;
  readonly location: { readonly file: string; readonly line: number; readonly col: number };
  /** Hash of the rule's text and of the macros, lists and params it uses: equal means unchanged. */
  readonly fingerprint: string;
  /** `when` and not any `except`. */
  readonly match: Predicate;
  readonly correlation: CompiledCorrelation | undefined;
  readonly suppress: { readonly ms: number; readonly by: readonly KeySpec[] } | undefined;
  readonly actions: readonly CompiledAction[];
  /**
   * The values of one dispatch field (`event.category`, else `event.dataset`, else
   * `event.type`) that the rule can only match, from a top-level conjunct of its `when`;
   * undefined when it may match any event. Lets the engine send each event only to the rules
   * that can match it.
   */
  readonly dispatch: { readonly field: DispatchField; readonly values: readonly string[] } | undefined;
  /**
   * False only for events the rule certainly ignores when it receives them (nothing of its
   * state or output changes): `match`; for a sequence, `match` and what some step's condition
   * asks without reading earlier steps, or its `until`. A reader may leave such events out of
   * what it hands the engine (see {@link packRelevance}).
   */
  readonly relevant: Predicate;
  /** The condition `relevant` tests (in the pack's terms: macros, lists, params). */
  readonly relevance: A.Expr;
}

/** The fields rules are indexed by, in order of preference. */
export const DISPATCH_FIELDS = ["event.category", "event.dataset", "event.type"] as const;
export type DispatchField = (typeof DISPATCH_FIELDS)[number];

const key = (f: A.FieldExpr): KeySpec => ({ path: f.path, read: fieldReader(f.path) });

/** Step names → index, noting whether the compiler resolved any field through a step. */
class StepIndex extends Map<string, number> {
  constructor(
    entries: Iterable<readonly [string, number]>,
    private readonly reads: { used: boolean },
  ) {
    super(entries);
  }

  override get(name: string): number | undefined {
    const i = super.get(name);
    if (i !== undefined) this.reads.used = true;
    return i;
  }
}

export function compileRule(rule: A.RuleDecl, source: SourceFile, env: CompileEnv, usedTexts: readonly string[]): CompiledRule {
  const constOf = (e: A.Expr): unknown => {
    const v = compileValue(e, env);
    return v.constant ? v.value : undefined;
  };
  const meta = new Map<A.MetaKey, unknown>();
  const slot: StepSlot = { events: [] };
  const stepReads = { used: false };
  let tags: string[] = [];
  let when: A.Expr | undefined;
  const excepts: A.Expr[] = [];
  let correlation: CompiledCorrelation | undefined;
  let suppress: CompiledRule["suppress"];
  let actions: CompiledAction[] = [];
  for (const c of rule.clauses) {
    switch (c.kind) {
      case "meta":
        meta.set(c.key, c.value.kind === "field" ? c.value.path : constOf(c.value));
        break;
      case "tags":
        tags = c.tags.map((t) => t.name);
        break;
      case "when":
        when = c.expr;
        break;
      case "except":
        excepts.push(c.expr);
        break;
      case "threshold": {
        const raw = Number(constOf(c.value));
        const countLike = c.agg === "count" || c.agg === "distinct";
        correlation = {
          kind: "threshold",
          agg: c.agg,
          field: c.field === undefined ? undefined : key(c.field),
          op: countLike ? ">=" : c.op,
          value: countLike && c.op === ">" ? raw + 1 : raw,
          windowMs: c.within.ms,
          by: c.by.map(key),
        };
        break;
      }
      case "suppress":
        suppress = { ms: c.within.ms, by: c.by.map(key) };
        break;
      case "then": {
        const seq = rule.clauses.find((x): x is A.SequenceClause => x.kind === "sequence");
        const actEnv: CompileEnv = seq === undefined ? env : { ...env, steps: { index: new StepIndex(seq.steps.map((s, i) => [s.name.name, i] as const), stepReads), slot } };
        actions = c.actions.map((a) => compileAction(a, actEnv));
        break;
      }
      case "sequence":
        correlation = compileSequence(c, env, slot, constOf, stepReads);
        break;
      case "absent":
        correlation = { kind: "absent", forMs: c.for.ms, by: c.by.map(key) };
        break;
      case "first_seen":
        correlation = { kind: "first_seen", fields: c.fields.map(key), by: c.by.map(key), learningMs: c.learning?.ms ?? 0 };
        break;
      case "anomaly":
        correlation = {
          kind: "anomaly",
          model: c.model.name,
          features: c.features?.map((f) => toGetter(compileValue(f, env))),
          op: c.op,
          value: Number(constOf(c.value)),
        };
        break;
      default: {
        const never: never = c;
        return never;
      }
    }
  }
  // Actions may be compiled after the sequence: what they read of steps is known only now.
  if (correlation?.kind === "sequence") correlation = { ...correlation, readsSteps: stepReads.used };
  // `when` and not any `except`, as one generated function.
  let match: Predicate;
  if (when !== undefined) match = compileMatch(when, excepts, env);
  else {
    const whenPred = () => correlation?.kind === "sequence";
    const exceptPreds = excepts.map((e) => compilePredicate(e, env));
    match = exceptPreds.length === 0 ? whenPred : (f) => whenPred() && !exceptPreds.some((x) => x(f));
  }
  const relevance = relevanceOf(rule, when, excepts, rule.clauses.find((x): x is A.SequenceClause => x.kind === "sequence"), env);
  const pos = source.position(rule.span.start);
  const str = (k: A.MetaKey) => {
    const v = meta.get(k);
    return v === undefined || v === null ? undefined : keyText(v);
  };
  const risk = meta.get("risk");
  // The canonical text, so that reformatting or editing comments keeps the rule's version.
  const fingerprint = createHash("sha256")
    .update(printDecl(rule))
    .update("\0")
    .update(usedTexts.join("\0"))
    .digest("hex")
    .slice(0, 16);
  return {
    name: rule.name.name,
    title: str("title") ?? rule.name.name,
    description: str("description"),
    severity: (str("severity") ?? "medium") as Severity,
    risk: typeof risk === "number" ? risk : undefined,
    tags,
    enabled: meta.get("enabled") !== false,
    author: str("author"),
    version: str("version"),
    location: { file: source.path, line: pos.line, col: pos.col },
    fingerprint,
    match,
    correlation,
    suppress,
    actions,
    dispatch: dispatchOfRule(when, rule.clauses.find((x): x is A.SequenceClause => x.kind === "sequence"), env),
    relevance,
    relevant: lazyPredicate(relevance, env),
  };
}

/**
 * The condition {@link CompiledRule.relevant} tests. A sequence changes state only when one
 * of its steps matches the event (for some partial) or its `until` does; a step's condition
 * implies each of its top-level conjuncts (macros expanded), so those that read no earlier
 * step make a test that holds whenever the step can match.
 */
function relevanceOf(rule: A.RuleDecl, when: A.Expr | undefined, excepts: readonly A.Expr[], seq: A.SequenceClause | undefined, env: CompileEnv): A.Expr {
  const span = rule.span;
  const and = (l: A.Expr, r: A.Expr): A.Expr => ({ kind: "and", left: l, right: r, span });
  const or = (l: A.Expr, r: A.Expr): A.Expr => ({ kind: "or", left: l, right: r, span });
  // `match`: `when` (a rule that is not a sequence matches nothing without one) and not any `except`.
  const base = when ?? { kind: "literal", value: seq !== undefined, span };
  const match = excepts.length === 0 ? base : and(base, { kind: "not", operand: excepts.reduce(or), span });
  if (seq === undefined) return match;
  const index = new Map<string, number>();
  const tests: A.Expr[] = [];
  let anyStep = false;
  seq.steps.forEach((s, i) => {
    const kept: A.Expr[] = [];
    for (const c of conjuncts(s.expr, env, [])) {
      const reads = { used: false };
      compilePredicate(c, { ...env, steps: { index: new StepIndex(index, reads), slot: { events: [] } } });
      if (!reads.used) kept.push(c);
    }
    index.set(s.name.name, i);
    if (kept.length === 0) anyStep = true;
    else tests.push(kept.reduce(and));
  });
  // No test: some step may match whatever `match` lets through. No steps: none ever matches.
  const stepTest: A.Expr | undefined = anyStep ? undefined : tests.length === 0 ? { kind: "literal", value: false, span } : tests.reduce(or);
  const changes = stepTest === undefined ? match : and(match, stepTest);
  return seq.until === undefined ? changes : or(changes, seq.until);
}

/** A condition compiled on its first call (a rule's own `relevant` is seldom called: the pack's is). */
function lazyPredicate(e: A.Expr, env: CompileEnv): Predicate {
  let p: Predicate | undefined;
  return (f) => (p ??= compilePredicate(e, env))(f);
}

/** The top-level conjuncts of a condition, macros expanded. */
function conjuncts(e: A.Expr, env: CompileEnv, out: A.Expr[]): A.Expr[] {
  if (e.kind === "and") {
    conjuncts(e.left, env, out);
    conjuncts(e.right, env, out);
    return out;
  }
  if (e.kind === "field") {
    const m = env.macros.get(e.path);
    if (m !== undefined) return conjuncts(m, env, out);
  }
  out.push(e);
  return out;
}

function toGetter(v: ReturnType<typeof compileValue>): Getter {
  if (v.constant) {
    const value = v.value;
    return () => value;
  }
  return v.get;
}

function compileSequence(c: A.SequenceClause, env: CompileEnv, slot: StepSlot, constOf: (e: A.Expr) => unknown, stepReads: { used: boolean }): CompiledSequence {
  const index = new Map<string, number>();
  const steps: CompiledStep[] = c.steps.map((s, i) => {
    const stepEnv: CompileEnv = { ...env, steps: { index: new StepIndex(index, stepReads), slot } };
    index.set(s.name.name, i);
    const n = s.repeat === undefined ? 1 : Number(constOf(s.repeat.value)) + (s.repeat.op === ">" ? 1 : 0);
    return { name: s.name.name, match: compilePredicate(s.expr, stepEnv), repeat: n, by: (s.by.length > 0 ? s.by : c.by).map(key) };
  });
  return {
    kind: "sequence",
    windowMs: c.within.ms,
    steps,
    until: c.until === undefined ? undefined : compilePredicate(c.until, env),
    by: c.by.length > 0 ? c.by.map(key) : (steps[0]?.by ?? []),
    slot,
    readsSteps: stepReads.used,
  };
}

/** Compiles a model declaration (names and features resolved; training lives in the engine). */
export function compileModel(m: A.ModelDecl, source: SourceFile, env: CompileEnv): CompiledModel {
  let features: CompiledModel["features"] = [];
  let by: KeySpec[] = [];
  let trainMs: number | undefined;
  let retrainMs: number | undefined;
  for (const c of m.clauses) {
    if (c.kind === "features") features = c.features.map((f) => ({ text: source.text.slice(f.span.start, f.span.end), get: toGetter(compileValue(f, env)) }));
    else if (c.kind === "by") by = c.by.map(key);
    else if (c.kind === "train") trainMs = c.duration.ms;
    else retrainMs = c.duration.ms;
  }
  return { name: m.name.name, features, by, trainMs, retrainMs };
}

function asText(x: unknown): unknown {
  return typeof x === "number" || typeof x === "boolean" ? String(x) : x;
}

function compileAction(a: A.ActionCall, env: CompileEnv): CompiledAction {
  const spec = ACTION_CATALOGUE.get(a.name.name);
  const args = new Map<string, ActionArgValue>();
  let positional = 0;
  for (const arg of a.args) {
    const pname = arg.name?.name ?? spec?.params[positional++]?.name;
    if (pname === undefined) continue;
    const v = compileValue(arg.value, env);
    // A text parameter (an account, a message) takes a number or boolean field as its text.
    const text = spec?.params.find((p) => p.name === pname)?.type === "string";
    if (v.constant) args.set(pname, { constant: true, value: text ? asText(v.value) : v.value });
    else {
      const get = v.get;
      args.set(pname, { constant: false, path: arg.value.kind === "field" ? arg.value.path : pname, get: text ? (f) => asText(get(f)) : get });
    }
  }
  for (const p of spec?.params ?? []) {
    if (!args.has(p.name) && p.default !== undefined) args.set(p.name, { constant: true, value: p.default });
  }
  return { name: a.name.name, mode: a.mode ?? "enforce", args };
}

/**
 * The events a rule needs to see, by the value of one dispatch field. A sequence needs those
 * that can satisfy `when` (if it has one) and one of its steps, and those that can satisfy its
 * `until` (tested on every event the rule receives): pinned only when all of them are.
 */
function dispatchOfRule(when: A.Expr | undefined, seq: A.SequenceClause | undefined, env: CompileEnv): CompiledRule["dispatch"] {
  if (seq === undefined) return when === undefined ? undefined : dispatchOf(when, env);
  for (const field of DISPATCH_FIELDS) {
    const byWhen = when === undefined ? undefined : pinnedValues(when, env, field);
    const perStep = seq.steps.map((s) => pinnedValues(s.expr, env, field));
    const bySteps = perStep.every((v): v is string[] => v !== undefined) ? [...new Set(perStep.flat())] : undefined;
    let values = byWhen === undefined ? bySteps : bySteps === undefined ? byWhen : byWhen.filter((v) => bySteps.includes(v));
    if (values === undefined) continue;
    if (seq.until !== undefined) {
      const byUntil = pinnedValues(seq.until, env, field);
      if (byUntil === undefined) continue;
      values = [...new Set([...values, ...byUntil])];
    }
    return { field, values };
  }
  return undefined;
}

function dispatchOf(when: A.Expr, env: CompileEnv): CompiledRule["dispatch"] {
  for (const field of DISPATCH_FIELDS) {
    const values = pinnedValues(when, env, field);
    if (values !== undefined) return { field, values };
  }
  return undefined;
}

/** Values a field is pinned to by the top-level conjuncts of a condition (macros expanded). */
export function pinnedValues(e: A.Expr, env: CompileEnv, field: string): string[] | undefined {
  switch (e.kind) {
    case "and": {
      const l = pinnedValues(e.left, env, field);
      const r = pinnedValues(e.right, env, field);
      if (l === undefined) return r;
      if (r === undefined) return l;
      return l.filter((x) => r.includes(x));
    }
    case "or": {
      const l = pinnedValues(e.left, env, field);
      const r = pinnedValues(e.right, env, field);
      return l === undefined || r === undefined ? undefined : [...new Set([...l, ...r])];
    }
    case "field": {
      const m = env.macros.get(e.path);
      return m === undefined ? undefined : pinnedValues(m, env, field);
    }
    case "compare":
      if (e.op === "==" && !e.ci && e.left.kind === "field" && e.left.path === field && e.right.kind === "literal" && typeof e.right.value === "string") {
        return [e.right.value];
      }
      return undefined;
    case "in":
      if (!e.negated && !e.ci && e.left.kind === "field" && e.left.path === field && e.set.kind === "list") {
        const vals = e.set.items.map((i) => (i.kind === "literal" ? i.value : undefined));
        return vals.every((v): v is string => typeof v === "string") ? vals : undefined;
      }
      return undefined;
    default:
      return undefined;
  }
}
