/**
 * Node builders for the grammar's postprocessors: they turn tokens and sub-nodes into
 * AST nodes with spans. Pure, no validation (that is the checker's job).
 */
import type * as A from "./ast.js";
import type { Token } from "./lexer.js";
import type { Span } from "./source.js";

type Spanned = { readonly span: Span };
type Part = Token | Spanned;

function spanOf(p: Part): Span {
  if ("span" in p) return p.span;
  return { start: p.offset, end: p.offset + p.text.length };
}

function over(a: Part, b: Part): Span {
  return { start: spanOf(a).start, end: spanOf(b).end };
}

/** `(%comma X):*` groups arrive as arrays of [comma, X]. */
function rest<T>(groups: readonly (readonly [Token, T])[]): T[] {
  return groups.map((g) => g[1]);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function unquote(text: string): string {
  const body = text.slice(1, -1);
  return body.replace(/\\(.)/g, (_m, c: string) => {
    switch (c) {
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "r":
        return "\r";
      case "0":
        return "\0";
      default:
        return c;
    }
  });
}

export const name = (t: Token): A.Name => ({ name: t.value, span: spanOf(t) });
export const bareName = (t: Token): A.FieldExpr => ({ kind: "field", path: t.value, span: spanOf(t) });
export const param = (t: Token): A.ParamExpr => ({ kind: "param", name: t.value.slice(1), span: spanOf(t) });
export const string = (t: Token): A.LiteralExpr => ({ kind: "literal", value: unquote(t.text), span: spanOf(t) });
export const number = (t: Token): A.LiteralExpr => ({ kind: "literal", value: Number(t.value), span: spanOf(t) });
export const negative = (m: Token, t: Token): A.LiteralExpr => ({
  kind: "literal",
  value: -Number(t.value),
  span: over(m, t),
});
export const literal = (t: Token, value: A.LiteralValue): A.LiteralExpr => ({ kind: "literal", value, span: spanOf(t) });

export function duration(t: Token): A.DurationExpr {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(t.value);
  const ms = m === null ? NaN : Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return { kind: "duration", ms, text: t.value, span: spanOf(t) };
}

export function field(start: Token, segs: readonly (readonly [Token, Token])[]): A.FieldExpr {
  let path = start.value;
  let last: Token = start;
  for (const [, seg] of segs) {
    const s = seg.type === "string" ? unquote(seg.text) : seg.value;
    path += /^@?[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `.${s}` : `."${s.replace(/["\\]/g, "\\$&")}"`;
    last = seg;
  }
  return { kind: "field", path, span: over(start, last) };
}

export function exprList(first: A.Expr, more: readonly (readonly [Token, A.Expr])[]): A.Expr[] {
  return [first, ...rest(more)];
}

export const list = (open: Token, items: readonly A.Expr[], close: Token): A.ListExpr => ({
  kind: "list",
  items,
  span: over(open, close),
});

export const call = (n: A.Name, args: readonly A.Expr[] | null, close: Token): A.CallExpr => ({
  kind: "call",
  name: n.name,
  nameSpan: n.span,
  args: args ?? [],
  span: over(n, close),
});

export const not = (kw: Token, operand: A.Expr): A.NotExpr => ({ kind: "not", operand, span: over(kw, operand) });

export const logical = (kind: "and" | "or", left: A.Expr, right: A.Expr): A.LogicalExpr => ({
  kind,
  left,
  right,
  span: over(left, right),
});

export function compare(left: A.Expr, op: Token, right: A.Expr): A.CompareExpr {
  const ci = op.value === "==~" || op.value === "!=~";
  const base = (ci ? op.value.slice(0, 2) : op.value) as A.CompareOp;
  return { kind: "compare", op: base, ci, left, right, span: over(left, right) };
}

export const inExpr = (left: A.Expr, negated: boolean, ci: boolean, set: A.Expr): A.InExpr => ({
  kind: "in",
  left,
  set,
  negated,
  ci,
  span: over(left, set),
});

export const strmatch = (left: A.Expr, op: Token, ci: boolean, right: A.Expr): A.StringMatchExpr => ({
  kind: "strmatch",
  op: op.value as A.StringOp,
  ci,
  left,
  right,
  span: over(left, right),
});

export const cidr = (left: A.Expr, right: A.Expr): A.CidrExpr => ({ kind: "cidr", left, right, span: over(left, right) });

export const exists = (kw: Token, f: A.FieldExpr): A.ExistsExpr => ({ kind: "exists", field: f, span: over(kw, f) });

/* ---- clauses ---- */

export const meta = (key: Token, value: A.LiteralExpr | A.FieldExpr | A.ParamExpr): A.MetaClause => ({
  kind: "meta",
  key: key.value as A.MetaKey,
  value,
  span: over(key, value),
});

export function tag(first: Token, more: readonly (readonly [Token, Token])[]): A.Name {
  let text = first.text;
  let last = first;
  for (const [, seg] of more) {
    text += `.${seg.text}`;
    last = seg;
  }
  return { name: text, span: over(first, last) };
}

export function tags(kw: Token, first: A.Name, more: readonly (readonly [Token, A.Name])[]): A.TagsClause {
  const all = [first, ...rest(more)];
  return { kind: "tags", tags: all, span: over(kw, all[all.length - 1] as A.Name) };
}

export const when = (kind: "when" | "except", kw: Token, expr: A.Expr): A.WhenClause => ({
  kind,
  expr,
  span: over(kw, expr),
});

export function by(first: A.FieldExpr, more: readonly (readonly [Token, A.FieldExpr])[]): A.FieldExpr[] {
  return [first, ...rest(more)];
}

export function threshold(
  kw: Token,
  f: A.FieldExpr | undefined,
  op: Token,
  value: A.LiteralExpr | A.ParamExpr,
  within: A.DurationExpr,
  keys: A.FieldExpr[] | null,
  _close: Token | undefined,
): A.ThresholdClause {
  const end: Part = keys !== null && keys.length > 0 ? (keys[keys.length - 1] as A.FieldExpr) : within;
  return {
    kind: "threshold",
    agg: kw.value as A.AggregateKind,
    field: f,
    op: op.value as A.CompareOp,
    value,
    within,
    by: keys ?? [],
    span: over(kw, end),
  };
}

export function suppress(kw: Token, within: A.DurationExpr, keys: A.FieldExpr[] | null): A.SuppressClause {
  const end: Part = keys !== null && keys.length > 0 ? (keys[keys.length - 1] as A.FieldExpr) : within;
  return { kind: "suppress", within, by: keys ?? [], span: over(kw, end) };
}

export function args(first: A.ActionArg, more: readonly (readonly [Token, A.ActionArg])[]): A.ActionArg[] {
  return [first, ...rest(more)];
}

export const arg = (n: A.Name | undefined, value: A.Expr): A.ActionArg => ({
  name: n,
  value,
  span: n === undefined ? value.span : over(n, value),
});

export function action(n: A.Name, a: A.ActionArg[] | null, close: Token, mode: Token | null): A.ActionCall {
  return {
    name: n,
    args: a ?? [],
    mode: mode === null ? undefined : (mode.value as A.ActionMode),
    span: over(n, mode ?? close),
  };
}

export function thenClause(kw: Token, first: A.ActionCall, more: readonly (readonly [Token, A.ActionCall])[]): A.ThenClause {
  const all = [first, ...rest(more)];
  return { kind: "then", actions: all, span: over(kw, all[all.length - 1] as A.ActionCall) };
}

/* ---- declarations ---- */

export const ruleDecl = (kw: Token, n: A.Name, clauses: A.RuleClause[], close: Token): A.RuleDecl => ({
  kind: "rule",
  name: n,
  clauses,
  span: over(kw, close),
});

export const macroDecl = (kw: Token, n: A.Name, expr: A.Expr): A.MacroDecl => ({
  kind: "macro",
  name: n,
  expr,
  span: over(kw, expr),
});

export const listDecl = (kw: Token, n: A.Name, items: A.ListExpr): A.ListDecl => ({
  kind: "list",
  name: n,
  source: items,
  span: over(kw, items),
});

export const listFileDecl = (kw: Token, n: A.Name, path: Token, close: Token): A.ListDecl => ({
  kind: "list",
  name: n,
  source: { kind: "file", path: unquote(path.text), span: spanOf(path) },
  span: over(kw, close),
});

export const paramDecl = (kw: Token, n: A.Name, value: A.LiteralExpr | A.DurationExpr): A.ParamDecl => ({
  kind: "param",
  name: n,
  value,
  span: over(kw, value),
});

export const setting = (n: A.Name, value: A.LiteralExpr | A.DurationExpr): A.Setting => ({
  name: n,
  value,
  span: over(n, value),
});

export const settings = (kw: Token, items: A.Setting[], close: Token): A.SettingsDecl => ({
  kind: "settings",
  settings: items,
  span: over(kw, close),
});

/* ---- correlations beyond thresholds, models, regexes ---- */

export function regex(t: Token): A.RegexExpr {
  const last = t.text.lastIndexOf("/");
  return { kind: "regex", pattern: t.text.slice(1, last).replace(/\\\//g, "/"), flags: t.text.slice(last + 1), span: spanOf(t) };
}

export const repeat = (op: Token, value: A.LiteralExpr | A.ParamExpr): { op: A.CompareOp; value: A.LiteralExpr | A.ParamExpr } => ({
  op: op.value as A.CompareOp,
  value,
});

export function step(n: A.Name, expr: A.Expr, rep: { op: A.CompareOp; value: A.LiteralExpr | A.ParamExpr } | null, keys: A.FieldExpr[] | null): A.SequenceStep {
  const end: Part = keys !== null && keys.length > 0 ? (keys[keys.length - 1] as A.FieldExpr) : rep !== null ? rep.value : expr;
  return { name: n, expr, repeat: rep ?? undefined, by: keys ?? [], span: over(n, end) };
}

export function sequence(kw: Token, keys: A.FieldExpr[] | null, within: A.DurationExpr, steps: A.SequenceStep[], close: Token, until: A.Expr | null): A.SequenceClause {
  return { kind: "sequence", by: keys ?? [], within, steps, until: until ?? undefined, span: over(kw, until ?? close) };
}

export function absent(kw: Token, d: A.DurationExpr, keys: A.FieldExpr[] | null): A.AbsentClause {
  const end: Part = keys !== null && keys.length > 0 ? (keys[keys.length - 1] as A.FieldExpr) : d;
  return { kind: "absent", for: d, by: keys ?? [], span: over(kw, end) };
}

export function firstSeen(kw: Token, fields: A.FieldExpr[], keys: A.FieldExpr[] | null, learning: A.DurationExpr | null): A.FirstSeenClause {
  const end: Part = learning ?? (keys !== null && keys.length > 0 ? (keys[keys.length - 1] as A.FieldExpr) : (fields[fields.length - 1] as A.FieldExpr));
  return { kind: "first_seen", fields, by: keys ?? [], learning: learning ?? undefined, span: over(kw, end) };
}

export function anomaly(kw: Token, model: A.Name, features: A.Expr[] | null, op: Token, value: A.LiteralExpr | A.ParamExpr): A.AnomalyClause {
  return { kind: "anomaly", model, features: features ?? undefined, op: op.value as A.CompareOp, value, span: over(kw, value) };
}

export const modelFeatures = (kw: Token, features: A.Expr[]): A.ModelClause => ({
  kind: "features",
  features,
  span: over(kw, features[features.length - 1] as A.Expr),
});

export const modelBy = (kw: Token, keys: A.FieldExpr[]): A.ModelClause => ({ kind: "by", by: keys, span: over(kw, keys[keys.length - 1] as A.FieldExpr) });

export const modelDuration = (kind: "train" | "retrain", kw: Token, duration: A.DurationExpr): A.ModelClause => ({
  kind,
  duration,
  span: over(kw, duration),
});

export const modelDecl = (kw: Token, n: A.Name, clauses: A.ModelClause[], close: Token): A.ModelDecl => ({
  kind: "model",
  name: n,
  clauses,
  span: over(kw, close),
});
