import { ACTION_CATALOGUE, type ActionParamSpec } from "../actions.js";
import type * as A from "../ast.js";
import { didYouMean } from "../suggest.js";
import type { CheckContext, Located } from "./context.js";
import { checkCondition, checkValue, paramValue } from "./expressions.js";

export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rule structure: clauses present at most once, one correlation, metadata values, actions. */
export function checkRule(ctx: CheckContext, at: Located<A.RuleDecl>): void {
  const rule = at.decl;
  const seen = new Map<string, A.RuleClause>();
  let correlation: A.CorrelationClause | undefined;
  const steps = new Set<string>();
  for (const c of rule.clauses) if (c.kind === "sequence") for (const s of c.steps) steps.add(s.name.name);
  for (const c of rule.clauses) {
    const key = c.kind === "meta" ? c.key : c.kind;
    if (isCorrelation(c)) {
      if (correlation !== undefined) ctx.error(at, c.span, "E_MULTIPLE_CORRELATIONS", "a rule has at most one correlation (count, distinct, sum/avg/min/max, sequence, absent, first seen, anomaly); split it into two rules");
      correlation = c;
    } else if (seen.has(key) && c.kind !== "except") {
      ctx.error(at, c.span, "E_DUPLICATE_CLAUSE", `'${key}' is given twice in rule '${rule.name.name}'`);
    }
    seen.set(key, c);
    switch (c.kind) {
      case "meta":
        checkMeta(ctx, at, c);
        break;
      case "tags":
        for (const t of c.tags) {
          if (!/^[A-Za-z0-9_.-]+$/.test(t.name)) ctx.error(at, t.span, "E_BAD_TAG", `bad tag '${t.name}'`);
        }
        break;
      case "when":
      case "except":
        ctx.unreadableSteps = steps;
        checkCondition(ctx, at, c.expr);
        ctx.unreadableSteps = new Set();
        break;
      case "threshold":
        checkThreshold(ctx, at, c);
        break;
      case "suppress":
        checkPositiveDuration(ctx, at, c.within, "suppress");
        break;
      case "then":
        ctx.stepScope = steps;
        for (const a of c.actions) checkAction(ctx, at, a);
        ctx.stepScope = new Set();
        break;
      case "sequence":
        checkSequence(ctx, at, c);
        break;
      case "absent":
        checkPositiveDuration(ctx, at, c.for, "absent for");
        break;
      case "first_seen":
        for (const f of c.fields) checkValue(ctx, at, f);
        if (c.learning !== undefined && !(c.learning.ms >= 0)) ctx.error(at, c.learning.span, "E_BAD_DURATION", "the learning period must not be negative");
        break;
      case "anomaly":
        checkAnomaly(ctx, at, c);
        break;
      default: {
        const never: never = c;
        return never;
      }
    }
  }
  if (!seen.has("when") && correlation?.kind !== "sequence") {
    ctx.error(at, rule.name.span, "E_MISSING_WHEN", `rule '${rule.name.name}' has no 'when' clause: say which events it looks at, e.g. when event.category == "authentication"`);
  }
  if (!seen.has("severity")) {
    ctx.error(at, rule.name.span, "E_MISSING_SEVERITY", `rule '${rule.name.name}' has no severity: add one of ${SEVERITIES.join(", ")}`);
  }
}

function isCorrelation(c: A.RuleClause): c is A.CorrelationClause {
  return c.kind === "threshold" || c.kind === "sequence" || c.kind === "absent" || c.kind === "first_seen" || c.kind === "anomaly";
}

function checkSequence(ctx: CheckContext, at: Located<A.RuleDecl>, c: A.SequenceClause): void {
  checkPositiveDuration(ctx, at, c.within, "within");
  if (c.steps.length < 2) ctx.error(at, c.span, "E_SEQUENCE_STEPS", "a sequence needs at least two steps; for one, use count >= N within D");
  const names = new Set<string>();
  const keyCount = c.by.length;
  for (const s of c.steps) {
    if (names.has(s.name.name)) ctx.error(at, s.name.span, "E_DUPLICATE_STEP", `step '${s.name.name}' is named twice in this sequence`);
    ctx.stepScope = new Set(names);
    ctx.unreadableSteps = new Set(c.steps.map((x) => x.name.name).filter((n) => !names.has(n)));
    checkCondition(ctx, at, s.expr);
    ctx.stepScope = new Set();
    ctx.unreadableSteps = new Set();
    names.add(s.name.name);
    if (s.repeat !== undefined) {
      const v = s.repeat.value.kind === "param" ? paramValue(ctx, s.repeat.value) : s.repeat.value.value;
      if (s.repeat.op !== ">=" && s.repeat.op !== ">") ctx.error(at, s.repeat.value.span, "E_THRESHOLD_OP", "repeat takes >= or >, e.g. repeat >= 5");
      const n = typeof v === "number" ? (s.repeat.op === ">" ? v + 1 : v) : NaN;
      if (s.repeat.value.kind === "param" && v === undefined) checkValue(ctx, at, s.repeat.value); // E_UNKNOWN_PARAM
      else if (!Number.isInteger(n) || n < 1 || n > 10_000) ctx.error(at, s.repeat.value.span, "E_BAD_THRESHOLD", "repeat takes a whole number from 1 to 10,000");
    }
    if (s.by.length > 0 && keyCount > 0 && s.by.length !== keyCount) {
      ctx.error(at, s.by[0]?.span ?? s.span, "E_SEQUENCE_KEYS", `step '${s.name.name}' joins on ${s.by.length} field${s.by.length === 1 ? "" : "s"} but the sequence on ${keyCount}: steps join by value, field for field`);
    }
  }
  const perStep = c.steps.filter((s) => s.by.length > 0);
  if (keyCount === 0 && perStep.length > 0 && perStep.length < c.steps.length) {
    ctx.error(at, c.span, "E_SEQUENCE_KEYS", "give every step its own 'by', or give the sequence one: sequence by FIELD within D { … }");
  }
  if (keyCount === 0 && perStep.length > 1 && new Set(perStep.map((s) => s.by.length)).size > 1) {
    ctx.error(at, c.span, "E_SEQUENCE_KEYS", "every step must join on the same number of fields");
  }
  if (c.until !== undefined) {
    // `until` is tested on each event alone: it reads no step.
    ctx.unreadableSteps = names;
    checkCondition(ctx, at, c.until);
    ctx.unreadableSteps = new Set();
  }
}

function checkAnomaly(ctx: CheckContext, at: Located<A.RuleDecl>, c: A.AnomalyClause): void {
  const model = ctx.symbols.models.get(c.model.name);
  if (model === undefined) {
    ctx.error(at, c.model.span, "E_UNKNOWN_MODEL", `unknown model '${c.model.name}'${didYouMean(c.model.name, ctx.symbols.models.keys())}; declare it with: model ${c.model.name} { features … }`);
  }
  for (const f of c.features ?? []) checkValue(ctx, at, f);
  const v = c.value.kind === "param" ? paramValue(ctx, c.value) : c.value.value;
  if (c.value.kind === "param" && v === undefined) checkValue(ctx, at, c.value); // E_UNKNOWN_PARAM
  else if (typeof v !== "number" || v < 0 || v > 1) ctx.error(at, c.value.span, "E_BAD_SCORE", "an anomaly score threshold lies between 0 and 1 (about 0.5 is ordinary, near 1 anomalous)");
  if (c.op === "==" || c.op === "!=") ctx.error(at, c.span, "E_THRESHOLD_OP", "anomaly thresholds take >, >=, < or <=");
}

/** Model declarations: features required, values only, positive durations, each clause once. */
export function checkModel(ctx: CheckContext, at: Located<A.ModelDecl>): void {
  const seen = new Set<string>();
  for (const c of at.decl.clauses) {
    if (seen.has(c.kind)) ctx.error(at, c.span, "E_DUPLICATE_CLAUSE", `'${c.kind}' is given twice in model '${at.decl.name.name}'`);
    seen.add(c.kind);
    if (c.kind === "features") for (const f of c.features) checkValue(ctx, at, f);
    else if (c.kind === "train" || c.kind === "retrain") checkPositiveDuration(ctx, at, c.duration, c.kind);
  }
  if (!seen.has("features")) ctx.error(at, at.decl.name.span, "E_MODEL_FEATURES", `model '${at.decl.name.name}' needs its features, e.g. features hour_of_day(@timestamp), network.bytes`);
}

function checkMeta(ctx: CheckContext, at: Located<A.RuleDecl>, c: A.MetaClause): void {
  const v = c.value;
  const literal = v.kind === "literal" ? v.value : v.kind === "param" ? paramValue(ctx, v) : undefined;
  switch (c.key) {
    case "severity": {
      const name = v.kind === "field" ? v.path : typeof literal === "string" ? literal : undefined;
      if (name === undefined || !(SEVERITIES as readonly string[]).includes(name)) {
        ctx.error(at, v.span, "E_BAD_SEVERITY", `severity must be one of ${SEVERITIES.join(", ")}${name === undefined ? "" : didYouMean(name, SEVERITIES)}`);
      }
      return;
    }
    case "risk":
      if (typeof literal !== "number" || literal < 0 || literal > 100 || !Number.isInteger(literal)) {
        ctx.error(at, v.span, "E_BAD_RISK", "risk is a whole number from 0 to 100");
      }
      return;
    case "enabled":
      if (typeof literal !== "boolean") ctx.error(at, v.span, "E_BAD_ENABLED", "enabled takes true or false");
      return;
    case "version":
      if (typeof literal !== "string" && typeof literal !== "number") ctx.error(at, v.span, "E_BAD_META", "version takes a string or a number");
      return;
    default:
      if (typeof literal !== "string") ctx.error(at, v.span, "E_BAD_META", `${c.key} takes a string in double quotes`);
  }
}

function checkPositiveDuration(ctx: CheckContext, at: Located, d: A.DurationExpr, after: string): void {
  if (!(d.ms > 0)) ctx.error(at, d.span, "E_BAD_DURATION", `the duration after '${after}' must be greater than zero`);
}

function checkThreshold(ctx: CheckContext, at: Located<A.RuleDecl>, c: A.ThresholdClause): void {
  checkPositiveDuration(ctx, at, c.within, "within");
  if (c.field !== undefined) checkValue(ctx, at, c.field);
  const v = c.value.kind === "param" ? paramValue(ctx, c.value) : c.value.value;
  if (c.value.kind === "param" && v === undefined) {
    checkValue(ctx, at, c.value);
    return;
  }
  if (typeof v !== "number") {
    ctx.error(at, c.value.span, "E_BAD_THRESHOLD", "the threshold must be a number");
    return;
  }
  if (c.agg === "count" || c.agg === "distinct") {
    if (c.op !== ">=" && c.op !== ">") {
      ctx.error(at, c.span, "E_THRESHOLD_OP", `${c.agg} thresholds take >= or >, e.g. ${c.agg === "count" ? "count" : "distinct(user.name)"} >= 5 within 10m`);
    }
    const n = c.op === ">" ? v + 1 : v;
    if (!Number.isInteger(v) || n < 1) ctx.error(at, c.value.span, "E_BAD_THRESHOLD", `the ${c.agg} threshold must be a whole number of at least 1`);
    if (n > 1_000_000) ctx.error(at, c.value.span, "E_BAD_THRESHOLD", `a ${c.agg} threshold above 1,000,000 is not supported`);
  } else if (c.op === "==" || c.op === "!=") {
    ctx.error(at, c.span, "E_THRESHOLD_OP", `${c.agg}(…) thresholds take <, <=, > or >=`);
  }
}

function checkAction(ctx: CheckContext, at: Located<A.RuleDecl>, a: A.ActionCall): void {
  const spec = ACTION_CATALOGUE.get(a.name.name);
  if (spec === undefined) {
    ctx.error(at, a.name.span, "E_UNKNOWN_ACTION", `unknown action '${a.name.name}'${didYouMean(a.name.name, ACTION_CATALOGUE.keys())}; known: ${[...ACTION_CATALOGUE.keys()].join(", ")}`);
    return;
  }
  const given = new Map<string, A.ActionArg>();
  let positional = 0;
  let sawNamed = false;
  for (const arg of a.args) {
    let param: ActionParamSpec | undefined;
    if (arg.name === undefined) {
      if (sawNamed) {
        ctx.error(at, arg.span, "E_ACTION_ARG", "positional arguments come before named ones");
        continue;
      }
      param = spec.params[positional++];
      if (param === undefined) {
        ctx.error(at, arg.span, "E_ACTION_ARG", `${spec.name} takes at most ${spec.params.length} argument${spec.params.length === 1 ? "" : "s"}`);
        continue;
      }
    } else {
      sawNamed = true;
      const argName = arg.name.name;
      param = spec.params.find((p) => p.name === argName);
      if (param === undefined) {
        ctx.error(at, arg.name.span, "E_ACTION_ARG", `${spec.name} has no argument '${argName}'${didYouMean(argName, spec.params.map((p) => p.name))}; it takes ${spec.params.map((p) => p.name).join(", ")}`);
        continue;
      }
    }
    if (given.has(param.name)) ctx.error(at, arg.span, "E_ACTION_ARG", `argument '${param.name}' of ${spec.name} is given twice`);
    given.set(param.name, arg);
    checkActionArg(ctx, at, spec.name, param, arg.value);
  }
  for (const p of spec.params) {
    if (p.required && !given.has(p.name)) ctx.error(at, a.span, "E_ACTION_ARG", `${spec.name} needs its '${p.name}' argument (${p.doc})`);
  }
}

function checkActionArg(ctx: CheckContext, at: Located, action: string, p: ActionParamSpec, v: A.Expr): void {
  const k = checkValue(ctx, at, v);
  const want = p.type === "ip" ? "string" : p.type;
  if (p.type === "duration") {
    if (k !== "duration") ctx.error(at, v.span, "E_ACTION_ARG", `'${p.name}' of ${action} takes a duration like 1h`);
    else if (v.kind === "duration") checkPositiveDuration(ctx, at, v, `${p.name}:`);
    return;
  }
  if (k !== "unknown" && k !== want) ctx.error(at, v.span, "E_ACTION_ARG", `'${p.name}' of ${action} takes a ${p.type === "ip" ? "address (a field like source.ip)" : p.type}, not a ${k}`);
}
