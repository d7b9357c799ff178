import type { Span } from "./source.js";

/**
 * The syntax tree of a rule pack. Every node keeps the span it was parsed from; line and
 * column are computed only when a diagnostic is shown. Parentheses are not nodes: the
 * printer puts back those that precedence needs.
 */

export type LiteralValue = string | number | boolean | null;

export interface LiteralExpr {
  readonly kind: "literal";
  readonly value: LiteralValue;
  readonly span: Span;
}

export interface DurationExpr {
  readonly kind: "duration";
  /** Milliseconds. */
  readonly ms: number;
  /** As written, e.g. `10m`; the printer keeps it. */
  readonly text: string;
  readonly span: Span;
}

/** A dotted field path, or a bare name that the checker resolves (macro, list). */
export interface FieldExpr {
  readonly kind: "field";
  readonly path: string;
  readonly span: Span;
}

export interface ParamExpr {
  readonly kind: "param";
  readonly name: string;
  readonly span: Span;
}

export interface ListExpr {
  readonly kind: "list";
  readonly items: readonly Expr[];
  readonly span: Span;
}

export interface CallExpr {
  readonly kind: "call";
  readonly name: string;
  readonly nameSpan: Span;
  readonly args: readonly Expr[];
  readonly span: Span;
}

export interface NotExpr {
  readonly kind: "not";
  readonly operand: Expr;
  readonly span: Span;
}

export interface LogicalExpr {
  readonly kind: "and" | "or";
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

export interface CompareExpr {
  readonly kind: "compare";
  readonly op: CompareOp;
  /** Case-insensitive (`==~`, `!=~`). */
  readonly ci: boolean;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

export type StringOp = "contains" | "startswith" | "endswith" | "like" | "matches";

export interface StringMatchExpr {
  readonly kind: "strmatch";
  readonly op: StringOp;
  /** Case-insensitive (`contains~`, …). */
  readonly ci: boolean;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

/** A regular expression literal `/…/flags` (the right side of `matches`). */
export interface RegexExpr {
  readonly kind: "regex";
  readonly pattern: string;
  readonly flags: string;
  readonly span: Span;
}

export interface InExpr {
  readonly kind: "in";
  readonly left: Expr;
  /** A list literal, or a field expression naming a declared list. */
  readonly set: Expr;
  readonly negated: boolean;
  readonly ci: boolean;
  readonly span: Span;
}

export interface CidrExpr {
  readonly kind: "cidr";
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

export interface ExistsExpr {
  readonly kind: "exists";
  readonly field: FieldExpr;
  readonly span: Span;
}

export type Expr =
  | LiteralExpr
  | DurationExpr
  | FieldExpr
  | ParamExpr
  | ListExpr
  | CallExpr
  | NotExpr
  | LogicalExpr
  | CompareExpr
  | StringMatchExpr
  | InExpr
  | CidrExpr
  | ExistsExpr
  | RegexExpr;

export interface Name {
  readonly name: string;
  readonly span: Span;
}

/* ---- rule clauses ---- */

export type MetaKey = "title" | "description" | "author" | "version" | "severity" | "risk" | "enabled";

export interface MetaClause {
  readonly kind: "meta";
  readonly key: MetaKey;
  /** Literal for most keys; a name (`high`) for severity; a param for risk. */
  readonly value: LiteralExpr | FieldExpr | ParamExpr;
  readonly span: Span;
}

export interface TagsClause {
  readonly kind: "tags";
  readonly tags: readonly Name[];
  readonly span: Span;
}

export interface WhenClause {
  readonly kind: "when" | "except";
  readonly expr: Expr;
  readonly span: Span;
}

export type AggregateKind = "count" | "distinct" | "sum" | "avg" | "min" | "max";

export interface ThresholdClause {
  readonly kind: "threshold";
  readonly agg: AggregateKind;
  /** The aggregated field; absent for `count`. */
  readonly field: FieldExpr | undefined;
  readonly op: CompareOp;
  readonly value: LiteralExpr | ParamExpr;
  readonly within: DurationExpr;
  readonly by: readonly FieldExpr[];
  readonly span: Span;
}

export interface SuppressClause {
  readonly kind: "suppress";
  readonly within: DurationExpr;
  readonly by: readonly FieldExpr[];
  readonly span: Span;
}

export type ActionMode = "dry_run" | "approve";

export interface ActionArg {
  /** Present for named arguments (`for: 1h`). */
  readonly name: Name | undefined;
  readonly value: Expr;
  readonly span: Span;
}

export interface ActionCall {
  readonly name: Name;
  readonly args: readonly ActionArg[];
  readonly mode: ActionMode | undefined;
  readonly span: Span;
}

export interface ThenClause {
  readonly kind: "then";
  readonly actions: readonly ActionCall[];
  readonly span: Span;
}

export interface SequenceStep {
  readonly name: Name;
  readonly expr: Expr;
  /** `repeat >= N`: the step needs N matching events (in order, within the span). */
  readonly repeat: { readonly op: CompareOp; readonly value: LiteralExpr | ParamExpr } | undefined;
  /** Per-step join keys, where field names differ between steps. */
  readonly by: readonly FieldExpr[];
  readonly span: Span;
}

export interface SequenceClause {
  readonly kind: "sequence";
  readonly by: readonly FieldExpr[];
  readonly within: DurationExpr;
  readonly steps: readonly SequenceStep[];
  readonly until: Expr | undefined;
  readonly span: Span;
}

export interface AbsentClause {
  readonly kind: "absent";
  readonly for: DurationExpr;
  readonly by: readonly FieldExpr[];
  readonly span: Span;
}

export interface FirstSeenClause {
  readonly kind: "first_seen";
  readonly fields: readonly FieldExpr[];
  readonly by: readonly FieldExpr[];
  readonly learning: DurationExpr | undefined;
  readonly span: Span;
}

export interface AnomalyClause {
  readonly kind: "anomaly";
  readonly model: Name;
  /** Inline features (`anomaly m(f1, f2) > 0.7`); otherwise the model declaration's. */
  readonly features: readonly Expr[] | undefined;
  readonly op: CompareOp;
  readonly value: LiteralExpr | ParamExpr;
  readonly span: Span;
}

export type CorrelationClause = ThresholdClause | SequenceClause | AbsentClause | FirstSeenClause | AnomalyClause;

export type RuleClause = MetaClause | TagsClause | WhenClause | SuppressClause | ThenClause | CorrelationClause;

/* ---- declarations ---- */

export interface RuleDecl {
  readonly kind: "rule";
  readonly name: Name;
  readonly clauses: readonly RuleClause[];
  readonly span: Span;
}

export interface MacroDecl {
  readonly kind: "macro";
  readonly name: Name;
  readonly expr: Expr;
  readonly span: Span;
}

export interface ListDecl {
  readonly kind: "list";
  readonly name: Name;
  /** Inline items, or a file path relative to the rule file. */
  readonly source: ListExpr | { readonly kind: "file"; readonly path: string; readonly span: Span };
  readonly span: Span;
}

export interface ParamDecl {
  readonly kind: "param";
  readonly name: Name;
  readonly value: LiteralExpr | DurationExpr;
  readonly span: Span;
}

export interface Setting {
  readonly name: Name;
  readonly value: LiteralExpr | DurationExpr;
  readonly span: Span;
}

export interface SettingsDecl {
  readonly kind: "settings";
  readonly settings: readonly Setting[];
  readonly span: Span;
}

export type ModelClause =
  | { readonly kind: "features"; readonly features: readonly Expr[]; readonly span: Span }
  | { readonly kind: "by"; readonly by: readonly FieldExpr[]; readonly span: Span }
  | { readonly kind: "train" | "retrain"; readonly duration: DurationExpr; readonly span: Span };

export interface ModelDecl {
  readonly kind: "model";
  readonly name: Name;
  readonly clauses: readonly ModelClause[];
  readonly span: Span;
}

export type Decl = RuleDecl | MacroDecl | ListDecl | ParamDecl | SettingsDecl | ModelDecl;

export interface Comment {
  readonly text: string;
  readonly span: Span;
}
