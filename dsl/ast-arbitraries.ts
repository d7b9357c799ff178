/**
 * fast-check generators of syntax trees (dsl/ast.ts), for property tests of the printer, the
 * parser and whatever consumes trees. Every generated tree is syntactically valid: it prints
 * to text that the parser reads back as the same tree (modulo spans, see `stripSpans`).
 *
 * - Names (declarations, steps, models, actions, settings, parameters) are identifiers that
 *   are not keywords; a field path starts with such an identifier and may use any keyword,
 *   `@name` or a quoted segment (`labels."odd-name"`) after it.
 * - Calls name the known functions (dsl/functions.ts) with their arity; severities, actions
 *   and regexes (RE2 syntax) are plausible. Names are not resolved against each other, so a
 *   generated pack does not in general pass the checker.
 * - Spans are dummies (`DUMMY_SPAN`).
 * - Only what the grammar can express: lists only as `in` targets and list declarations,
 *   regexes only after `matches` (never case-insensitive), `~` only on == and !=, thresholds,
 *   repeats and anomaly scores non-negative numbers or parameters.
 *
 * This file is for tests: it imports fast-check (a dev dependency).
 */
import fc from "fast-check";
import { ACTION_CATALOGUE } from "./actions.js";
import type * as A from "./ast.js";
import { SEVERITIES } from "./check/rules.js";
import { FUNCTIONS } from "./functions.js";
import { HARD_KEYWORDS, SOFT_KEYWORDS } from "./lexer.js";
import type { Span } from "./source.js";

export { stripSpans } from "./printer.js";

export const DUMMY_SPAN: Span = { start: 0, end: 0 };
const span = DUMMY_SPAN;

export const KEYWORDS: ReadonlySet<string> = new Set<string>([...HARD_KEYWORDS, ...SOFT_KEYWORDS]);
const ALL_KEYWORDS: readonly string[] = [...SOFT_KEYWORDS, ...HARD_KEYWORDS];

/** What the parser writes unquoted in a field path (dsl/build.ts `field`). */
const IDENT_LIKE = /^@?[A-Za-z_][A-Za-z0-9_]*$/;

/* ---- names ---- */

/** An identifier that is not a keyword (near-misses like `ands`, `Count` included). */
export const identifierArb: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("source", "user", "a", "_", "x1", "ands", "Count", "in_", "notify", "ruleset", "forward", "NULL", "True", "ms", "m"),
    },
  )
  .filter((s) => !KEYWORDS.has(s));

export const nameArb: fc.Arbitrary<A.Name> = identifierArb.map((name) => ({ name, span }));

/* ---- literals ---- */

export const stringValueArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("", "sshd", 'say "hi"', "it's", "back\\slash", "line\nbreak", "cr\r", "tab\t", "nul\0", "#not a comment", "\\n", "10.0.0.0/8", "adm*", "/x/"),
);

/** A non-negative number (thresholds, repeats and scores take no sign). */
export const numberValueArb: fc.Arbitrary<number> = fc
  .oneof(
    { weight: 3, arbitrary: fc.nat(1000) },
    { weight: 1, arbitrary: fc.nat() },
    { weight: 2, arbitrary: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.constantFrom(0.5, 0.7, 1e21, 1.5e-7, 123.456, 2 ** 53, 0.1 + 0.2) },
  )
  .filter((n) => !Object.is(n, -0));

const literal = (value: A.LiteralValue): A.LiteralExpr => ({ kind: "literal", value, span });

export const stringLiteralArb: fc.Arbitrary<A.LiteralExpr> = stringValueArb.map(literal);
export const numberLiteralArb: fc.Arbitrary<A.LiteralExpr> = numberValueArb.map(literal);

/** A scalar: string, number (signed, `-0` included), true, false or null. */
export const scalarArb: fc.Arbitrary<A.LiteralExpr> = fc
  .oneof(stringValueArb, numberValueArb, numberValueArb.map((n) => -n), fc.boolean(), fc.constant(null))
  .map(literal);

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** A duration as written (`10m`, sometimes `010m`), with its milliseconds. */
export const durationArb: fc.Arbitrary<A.DurationExpr> = fc
  .tuple(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(...(Object.keys(UNIT_MS) as (keyof typeof UNIT_MS)[])), fc.constantFrom("", "", "", "0"))
  .map(([n, unit, pad]) => ({ kind: "duration", ms: n * UNIT_MS[unit], text: `${pad}${n}${unit}`, span }));

export const paramRefArb: fc.Arbitrary<A.ParamExpr> = identifierArb.map((name) => ({ kind: "param", name, span }));

/* ---- fields ---- */

/** A quoted segment that is not identifier-like (those the parser unquotes); `"` and `\\` escaped in paths. */
const quotedSegmentArb = fc
  .oneof(
    fc.constantFrom("odd-name", "a.b", "", "1", "x y", "with\\backslash", "tab\there", "new\nline", "ünï", "#hash", "'single'", "-", "0day", "a/b"),
    fc.string({ unit: "grapheme", maxLength: 8 }),
    fc.string({ unit: "binary", maxLength: 6 }),
  )
  .filter((s) => !IDENT_LIKE.test(s));

const segmentArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: identifierArb },
  { weight: 2, arbitrary: fc.constantFrom(...ALL_KEYWORDS) },
  { weight: 1, arbitrary: identifierArb.map((s) => `@${s}`) },
  { weight: 2, arbitrary: quotedSegmentArb },
);

/** A field path as the parser writes it (`source.ip`, `@timestamp`, `labels."odd-name"`, `file.count`). */
export const fieldPathArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof({ weight: 5, arbitrary: identifierArb }, { weight: 1, arbitrary: identifierArb.map((s) => `@${s}`) }),
    fc.array(segmentArb, { maxLength: 3 }),
  )
  .map(([first, segs]) => first + segs.map((s) => (IDENT_LIKE.test(s) ? `.${s}` : `."${s.replace(/["\\]/g, "\\$&")}"`)).join(""));

export const fieldArb: fc.Arbitrary<A.FieldExpr> = fieldPathArb.map((path) => ({ kind: "field", path, span }));

/* ---- expressions ---- */

/** A regular expression that RE2 accepts; the pattern holds `/` unescaped, as the parser leaves it. */
export const regexArb: fc.Arbitrary<A.RegexExpr> = fc
  .tuple(
    fc.constantFrom("", "^"),
    fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom("a", "b", "z", "0", "9", " ", "-", "_", "#", "'", '"', ":", "é", ","),
          fc.constantFrom("\\d", "\\w", "\\s", "\\.", "\\\\", "\\-", "\\(", "."),
          fc.constant("/"),
          fc.constantFrom("[a-z]", "[0-9A-F]", "[^/]", "(?:ab|cd)", "(x|y)"),
        ),
        fc.constantFrom("", "", "", "*", "+", "?", "{1,3}"),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    fc.constantFrom("", "$"),
    fc.constantFrom("", "i", "m", "s", "im", "is", "ims"),
  )
  .map(([start, pieces, end, flags]) => ({ kind: "regex", pattern: start + pieces.map(([a, q]) => a + q).join("") + end, flags, span }));

/** An item of a list literal: scalar, duration or parameter. */
export const listItemArb: fc.Arbitrary<A.Expr> = fc.oneof({ weight: 4, arbitrary: scalarArb }, durationArb, paramRefArb);

export const listArb: fc.Arbitrary<A.ListExpr> = fc.array(listItemArb, { maxLength: 4 }).map((items) => ({ kind: "list", items, span }));

export const compareOpArb: fc.Arbitrary<A.CompareOp> = fc.constantFrom("==", "!=", "<", "<=", ">", ">=");

/** An operand that needs no parentheses: scalar, duration, field, parameter. */
export const leafExprArb: fc.Arbitrary<A.Expr> = fc.oneof(
  { weight: 3, arbitrary: fieldArb },
  { weight: 2, arbitrary: scalarArb },
  { weight: 1, arbitrary: durationArb },
  { weight: 1, arbitrary: paramRefArb },
);

function callArb(arg: fc.Arbitrary<A.Expr>): fc.Arbitrary<A.CallExpr> {
  return fc
    .constantFrom(...FUNCTIONS.values())
    .chain((f) => fc.array(arg, { minLength: f.arity, maxLength: f.arity }).map((args) => ({ kind: "call" as const, name: f.name, nameSpan: span, args, span })));
}

/**
 * Any expression, nested up to `maxDepth` (operands of predicates may be any expression: the
 * printer puts back the parentheses).
 */
export function exprArb(maxDepth = 3): fc.Arbitrary<A.Expr> {
  const { expr } = fc.letrec<{ expr: A.Expr }>((tie) => {
    const e = tie("expr");
    const compare = fc.record({ op: compareOpArb, ci: fc.boolean(), left: e, right: e }).map(
      (r): A.CompareExpr => ({ kind: "compare", op: r.op, ci: r.ci && (r.op === "==" || r.op === "!="), left: r.left, right: r.right, span }),
    );
    const strmatch = fc.oneof(
      fc
        .record({ op: fc.constantFrom<A.StringOp>("contains", "startswith", "endswith", "like"), ci: fc.boolean(), left: e, right: e })
        .map((r): A.StringMatchExpr => ({ kind: "strmatch", ...r, span })),
      fc.record({ left: e, right: regexArb }).map((r): A.StringMatchExpr => ({ kind: "strmatch", op: "matches", ci: false, ...r, span })),
    );
    const inExpr = fc
      .record({ left: e, set: fc.oneof(listArb, fieldArb), negated: fc.boolean(), ci: fc.boolean() })
      .map((r): A.InExpr => ({ kind: "in", ...r, span }));
    const cidr = fc.record({ left: e, right: e }).map((r): A.CidrExpr => ({ kind: "cidr", ...r, span }));
    const exists = fieldArb.map((field): A.ExistsExpr => ({ kind: "exists", field, span }));
    const logical = fc
      .record({ kind: fc.constantFrom<"and" | "or">("and", "or"), left: e, right: e })
      .map((r): A.LogicalExpr => ({ ...r, span }));
    const not = e.map((operand): A.NotExpr => ({ kind: "not", operand, span }));
    return {
      expr: fc.oneof(
        { maxDepth, depthIdentifier: "vigil-expr" },
        leafExprArb,
        compare,
        strmatch,
        inExpr,
        cidr,
        exists,
        logical,
        logical,
        not,
        callArb(e),
      ),
    };
  });
  return expr;
}

const expr = exprArb();

/* ---- rule clauses ---- */

const byArb = fc.array(fieldArb, { maxLength: 3 });
const someFields = fc.array(fieldArb, { minLength: 1, maxLength: 3 });
const numOrParamArb: fc.Arbitrary<A.LiteralExpr | A.ParamExpr> = fc.oneof({ weight: 3, arbitrary: numberLiteralArb }, paramRefArb);

const metaKeyArb = fc.constantFrom<A.MetaKey>("title", "description", "author", "version", "severity", "risk", "enabled");

export const metaClauseArb: fc.Arbitrary<A.MetaClause> = fc
  .oneof(
    { weight: 2, arbitrary: fc.record({ key: fc.constantFrom<A.MetaKey>("title", "description", "author", "version"), value: stringLiteralArb }) },
    {
      weight: 1,
      arbitrary: fc.record({
        key: fc.constant<A.MetaKey>("severity"),
        value: fc.constantFrom(...SEVERITIES).map((path): A.FieldExpr => ({ kind: "field", path, span })),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ key: fc.constant<A.MetaKey>("risk"), value: fc.oneof(fc.nat(100).map(literal), paramRefArb) }),
    },
    { weight: 1, arbitrary: fc.record({ key: fc.constant<A.MetaKey>("enabled"), value: fc.boolean().map(literal) }) },
    // Anything the grammar takes, whatever the key: scalar, bare name, parameter.
    {
      weight: 1,
      arbitrary: fc.record({
        key: metaKeyArb,
        value: fc.oneof(scalarArb, identifierArb.map((path): A.FieldExpr => ({ kind: "field", path, span })), paramRefArb),
      }),
    },
  )
  .map((r): A.MetaClause => ({ kind: "meta", key: r.key, value: r.value, span }));

/** A dotted tag (`attack.t1110.001`): identifiers, keywords and digit runs. */
export const tagNameArb: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 3, arbitrary: identifierArb }, fc.constantFrom(...ALL_KEYWORDS), fc.stringMatching(/^\d{1,4}$/)), { minLength: 1, maxLength: 4 })
  .map((segs) => segs.join("."));

export const tagsClauseArb: fc.Arbitrary<A.TagsClause> = fc
  .array(tagNameArb.map((name): A.Name => ({ name, span })), { minLength: 1, maxLength: 4 })
  .map((tags) => ({ kind: "tags", tags, span }));

export const whenClauseArb: fc.Arbitrary<A.WhenClause> = fc
  .record({ kind: fc.constantFrom<"when" | "except">("when", "except"), expr })
  .map((r) => ({ ...r, span }));

export const thresholdClauseArb: fc.Arbitrary<A.ThresholdClause> = fc
  .record({
    agg: fc.constantFrom<A.AggregateKind>("count", "distinct", "sum", "avg", "min", "max"),
    field: fieldArb,
    op: compareOpArb,
    value: numOrParamArb,
    within: durationArb,
    by: byArb,
  })
  .map((r) => ({ kind: "threshold", ...r, field: r.agg === "count" ? undefined : r.field, span }));

export const suppressClauseArb: fc.Arbitrary<A.SuppressClause> = fc
  .record({ within: durationArb, by: byArb })
  .map((r) => ({ kind: "suppress", ...r, span }));

const argNameArb: fc.Arbitrary<A.Name> = fc
  .oneof({ weight: 2, arbitrary: identifierArb }, fc.constantFrom("for", "message", "ip", "account", ...ALL_KEYWORDS))
  .map((name) => ({ name, span }));

export const actionCallArb: fc.Arbitrary<A.ActionCall> = fc
  .record({
    name: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ACTION_CATALOGUE.keys()) }, identifierArb).map((name): A.Name => ({ name, span })),
    args: fc.array(
      fc.record({ name: fc.option(argNameArb, { nil: undefined }), value: expr }).map((a): A.ActionArg => ({ ...a, span })),
      { maxLength: 3 },
    ),
    mode: fc.constantFrom<A.ActionMode | undefined>(undefined, undefined, "dry_run", "approve"),
  })
  .map((r) => ({ ...r, span }));

export const thenClauseArb: fc.Arbitrary<A.ThenClause> = fc
  .array(actionCallArb, { minLength: 1, maxLength: 3 })
  .map((actions) => ({ kind: "then", actions, span }));

export const sequenceStepArb: fc.Arbitrary<A.SequenceStep> = fc
  .record({
    name: nameArb,
    expr,
    repeat: fc.option(fc.record({ op: compareOpArb, value: numOrParamArb }), { nil: undefined }),
    by: byArb,
  })
  .map((r) => ({ ...r, span }));

export const sequenceClauseArb: fc.Arbitrary<A.SequenceClause> = fc
  .record({
    by: byArb,
    within: durationArb,
    steps: fc.array(sequenceStepArb, { minLength: 1, maxLength: 4 }),
    until: fc.option(expr, { nil: undefined }),
  })
  .map((r) => ({ kind: "sequence", ...r, span }));

export const absentClauseArb: fc.Arbitrary<A.AbsentClause> = fc
  .record({ for: durationArb, by: byArb })
  .map((r) => ({ kind: "absent", ...r, span }));

export const firstSeenClauseArb: fc.Arbitrary<A.FirstSeenClause> = fc
  .record({ fields: someFields, by: byArb, learning: fc.option(durationArb, { nil: undefined }) })
  .map((r) => ({ kind: "first_seen", ...r, span }));

export const anomalyClauseArb: fc.Arbitrary<A.AnomalyClause> = fc
  .record({
    model: nameArb,
    features: fc.option(fc.array(expr, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    op: compareOpArb,
    value: numOrParamArb,
  })
  .map((r) => ({ kind: "anomaly", ...r, span }));

export const correlationClauseArb: fc.Arbitrary<A.CorrelationClause> = fc.oneof(
  thresholdClauseArb,
  sequenceClauseArb,
  absentClauseArb,
  firstSeenClauseArb,
  anomalyClauseArb,
);

export const ruleClauseArb: fc.Arbitrary<A.RuleClause> = fc.oneof(
  { weight: 3, arbitrary: metaClauseArb },
  tagsClauseArb,
  { weight: 2, arbitrary: whenClauseArb },
  suppressClauseArb,
  thenClauseArb,
  { weight: 2, arbitrary: correlationClauseArb },
);

/* ---- declarations ---- */

export const ruleDeclArb: fc.Arbitrary<A.RuleDecl> = fc
  .record({ name: nameArb, clauses: fc.array(ruleClauseArb, { maxLength: 8 }) })
  .map((r) => ({ kind: "rule", ...r, span }));

export const macroDeclArb: fc.Arbitrary<A.MacroDecl> = fc
  .record({ name: nameArb, expr })
  .map((r) => ({ kind: "macro", ...r, span }));

export const listDeclArb: fc.Arbitrary<A.ListDecl> = fc
  .record({
    name: nameArb,
    source: fc.oneof(
      { weight: 3, arbitrary: listArb },
      stringValueArb.map((path) => ({ kind: "file" as const, path, span })),
    ),
  })
  .map((r) => ({ kind: "list", ...r, span }));

const settingValueArb: fc.Arbitrary<A.LiteralExpr | A.DurationExpr> = fc.oneof(scalarArb, durationArb);

export const paramDeclArb: fc.Arbitrary<A.ParamDecl> = fc
  .record({ name: nameArb, value: settingValueArb })
  .map((r) => ({ kind: "param", ...r, span }));

export const settingsDeclArb: fc.Arbitrary<A.SettingsDecl> = fc
  .array(
    fc
      .record({
        name: fc
          .oneof(fc.constantFrom("lateness", "future_skew", "max_keys_per_rule", "evidence_cap", "timezone"), identifierArb)
          .map((name): A.Name => ({ name, span })),
        value: settingValueArb,
      })
      .map((s): A.Setting => ({ ...s, span })),
    { maxLength: 4 },
  )
  .map((settings) => ({ kind: "settings", settings, span }));

export const modelClauseArb: fc.Arbitrary<A.ModelClause> = fc.oneof(
  fc.array(expr, { minLength: 1, maxLength: 3 }).map((features): A.ModelClause => ({ kind: "features", features, span })),
  someFields.map((by): A.ModelClause => ({ kind: "by", by, span })),
  fc
    .record({ kind: fc.constantFrom<"train" | "retrain">("train", "retrain"), duration: durationArb })
    .map((r): A.ModelClause => ({ ...r, span })),
);

export const modelDeclArb: fc.Arbitrary<A.ModelDecl> = fc
  .record({ name: nameArb, clauses: fc.array(modelClauseArb, { maxLength: 4 }) })
  .map((r) => ({ kind: "model", ...r, span }));

export const declArb: fc.Arbitrary<A.Decl> = fc.oneof(
  { weight: 3, arbitrary: ruleDeclArb },
  { weight: 2, arbitrary: macroDeclArb },
  listDeclArb,
  paramDeclArb,
  settingsDeclArb,
  modelDeclArb,
);

/** The declarations of one file. */
export const declsArb: fc.Arbitrary<A.Decl[]> = fc.array(declArb, { maxLength: 5 });
