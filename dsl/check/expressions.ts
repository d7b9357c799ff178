import type * as A from "../ast.js";
import { FUNCTIONS } from "../functions.js";
import { parseCidr } from "../ip.js";
import { regexProblem } from "../regex.js";
import { didYouMean } from "../suggest.js";
import { bareName, type CheckContext, type Located } from "./context.js";

/** The static kind of a value expression, where it can be known. */
export type ValueKind = "string" | "number" | "boolean" | "null" | "duration" | "unknown";

/** Checks an expression used as a condition (`when`, `except`, a macro body, `and` operands). */
export function checkCondition(ctx: CheckContext, at: Located, e: A.Expr): void {
  switch (e.kind) {
    case "and":
    case "or":
      checkCondition(ctx, at, e.left);
      checkCondition(ctx, at, e.right);
      return;
    case "not":
      checkCondition(ctx, at, e.operand);
      return;
    case "compare":
      checkCompare(ctx, at, e);
      return;
    case "strmatch": {
      if (e.op === "matches") {
        checkValue(ctx, at, e.left);
        if (e.right.kind !== "regex") ctx.error(at, e.right.span, "E_BAD_REGEX", "'matches' takes a regular expression like /ab+c/i");
        else checkRegex(ctx, at, e.right);
        return;
      }
      const l = checkValue(ctx, at, e.left);
      const r = checkValue(ctx, at, e.right);
      if (l !== "unknown" && l !== "string") ctx.error(at, e.left.span, "E_TYPE", `'${e.op}' needs text on its left, not a ${l}`);
      if (r !== "unknown" && r !== "string") ctx.error(at, e.right.span, "E_TYPE", `'${e.op}' needs text on its right, not a ${r}`);
      if (e.op === "like" && !isConstant(e.right)) ctx.error(at, e.right.span, "E_LIKE_PATTERN", "the pattern of 'like' must be a string literal or a parameter, e.g. like \"adm*\"");
      return;
    }
    case "in":
      checkValue(ctx, at, e.left);
      checkInTarget(ctx, at, e.set);
      return;
    case "cidr": {
      checkValue(ctx, at, e.left);
      const r = e.right;
      const text = r.kind === "literal" ? r.value : r.kind === "param" ? paramValue(ctx, r) : undefined;
      if (r.kind === "param" && text === undefined) {
        checkValue(ctx, at, r);
        return;
      }
      if (typeof text !== "string") {
        ctx.error(at, r.span, "E_BAD_CIDR", "'cidr' takes a string like \"10.0.0.0/8\" or \"2001:db8::/32\"");
      } else if (parseCidr(text) === undefined) {
        ctx.error(at, r.span, "E_BAD_CIDR", `'${text}' is not a CIDR block: write an address and a prefix length, like "10.0.0.0/8" or "2001:db8::/32"`);
      }
      return;
    }
    case "exists":
      return;
    case "field": {
      const name = bareName(e);
      if (name !== undefined && ctx.symbols.macros.has(name)) return; // a macro reference
      if (name !== undefined && ctx.symbols.lists.has(name)) {
        ctx.error(at, e.span, "E_LIST_AS_CONDITION", `'${name}' is a list; test membership with 'FIELD in ${name}'`);
      } else if (name !== undefined && !ctx.hasSchema) {
        // A bare word as a condition is nearly always a macro: a misspelt one, or one declared
        // in a file not loaded with this one. (With a schema, the schema check reports it.)
        const near = didYouMean(name, ctx.symbols.macros.keys());
        const rule = ctx.symbols.rules.has(name) ? `; '${name}' is a rule, and a rule's name is no condition: put its condition in a macro and use that in both` : "";
        ctx.warn(
          at,
          e.span,
          "W_NOT_A_MACRO",
          `'${name}' is not a macro of this pack${near}: it is read as a boolean field of the event (true only when that field is true); if it is a macro of another file, load that file too, and for a field write ${name} == true${rule}`,
        );
      }
      return; // a boolean field: true when the field is true
    }
    case "call": {
      const k = checkCall(ctx, at, e);
      if (k !== "boolean" && k !== "unknown") ctx.error(at, e.span, "E_NOT_A_CONDITION", `${e.name}(…) gives a ${k}, not a condition: compare it, e.g. ${e.name}(…) == …`);
      return;
    }
    case "literal":
      if (typeof e.value !== "boolean") ctx.error(at, e.span, "E_NOT_A_CONDITION", `a ${kindOfLiteral(e.value)} is not a condition: compare a field with it, e.g. field == ${JSON.stringify(e.value)}`);
      return;
    case "duration":
    case "param":
    case "list":
    case "regex":
      ctx.error(at, e.span, "E_NOT_A_CONDITION", `expected a condition here, found a ${e.kind === "regex" ? "regular expression (use it after 'matches')" : e.kind}`);
      return;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** Flags a regular expression may carry; patterns run on RE2 (linear time, no backtracking). */
const REGEX_FLAGS = /^[ims]*$/;

function checkRegex(ctx: CheckContext, at: Located, r: A.RegexExpr): void {
  if (!REGEX_FLAGS.test(r.flags) || new Set(r.flags).size !== r.flags.length) {
    ctx.error(at, r.span, "E_BAD_REGEX", `unknown or repeated regex flag in '${r.flags}': use i (ignore case), m (multi-line), s (dot matches newline)`);
    return;
  }
  const problem = regexProblem(r.pattern, r.flags);
  if (problem !== undefined) ctx.error(at, r.span, "E_BAD_REGEX", `bad regular expression /${r.pattern}/: ${problem}`);
}

function checkCompare(ctx: CheckContext, at: Located, e: A.CompareExpr): void {
  const l = checkValue(ctx, at, e.left);
  const r = checkValue(ctx, at, e.right);
  const ordering = e.op !== "==" && e.op !== "!=";
  if (ordering) {
    for (const [k, side] of [[l, e.left], [r, e.right]] as const) {
      if (k === "boolean" || k === "null") ctx.error(at, side.span, "E_TYPE", `'${e.op}' orders numbers, durations or text, not ${k === "null" ? "null" : "a boolean"}`);
    }
  }
  const known = (k: ValueKind) => k !== "unknown" && k !== "null";
  if (known(l) && known(r) && l !== r && !(isNumeric(l) && isNumeric(r))) {
    ctx.error(at, e.span, "E_TYPE", `cannot compare a ${l} with a ${r}`);
  }
  if (e.ci && ((l !== "unknown" && l !== "string") || (r !== "unknown" && r !== "string"))) {
    ctx.error(at, e.span, "E_TYPE", `'${e.op}~' compares text without case; use '${e.op}' for other values`);
  }
  // Both sides written as constants (a side that is a condition is an error of its own, above).
  const constant = (x: A.Expr) => x.kind === "literal" || x.kind === "duration";
  if (constant(e.left) && constant(e.right)) {
    ctx.warn(at, e.span, "W_CONSTANT_CONDITION", "this comparison does not read any field: it is always true or always false");
  }
}

const isNumeric = (k: ValueKind) => k === "number" || k === "duration";

function checkInTarget(ctx: CheckContext, at: Located, set: A.Expr): void {
  if (set.kind === "list") {
    for (const item of set.items) checkValue(ctx, at, item);
    return;
  }
  const name = bareName(set);
  if (name !== undefined && ctx.symbols.lists.has(name)) return;
  if (name !== undefined) {
    ctx.error(at, set.span, "E_UNKNOWN_LIST", `unknown list '${name}'${didYouMean(name, ctx.symbols.lists.keys())}; declare it with: list ${name} = [...]`);
  } else {
    ctx.error(at, set.span, "E_IN_TARGET", "'in' takes a list literal like [\"a\", \"b\"] or the name of a declared list");
  }
}

/** Checks an expression used as a value and returns its kind. */
export function checkValue(ctx: CheckContext, at: Located, e: A.Expr): ValueKind {
  switch (e.kind) {
    case "literal":
      return e.value === null ? "null" : (typeof e.value as ValueKind);
    case "duration":
      if (!(e.ms >= 0)) ctx.error(at, e.span, "E_BAD_DURATION", `'${e.text}' is not a duration`);
      return "duration";
    case "param": {
      const v = paramValue(ctx, e);
      if (v === undefined) {
        if (ctx.unparsed.has(e.name) && !ctx.symbols.params.has(e.name)) ctx.error(at, e.span, "E_BROKEN_DEPENDENCY", `parameter '$${e.name}' is declared, but its declaration has errors (see there)`);
        else ctx.error(at, e.span, "E_UNKNOWN_PARAM", `unknown parameter '$${e.name}'${didYouMean(e.name, ctx.symbols.params.keys())}; declare it with: param ${e.name} = …`);
        return "unknown";
      }
      const decl = ctx.symbols.params.get(e.name);
      if (decl?.decl.value.kind === "duration") return "duration";
      return v === null ? "null" : (typeof v as ValueKind);
    }
    case "field": {
      const name = bareName(e);
      const head = e.path.split(".")[0] ?? "";
      if (ctx.stepScope.has(head) && e.path.length > head.length) return "unknown"; // an earlier step's field
      if (ctx.unreadableSteps.has(head) && e.path.length > head.length) {
        ctx.warn(
          at,
          e.span,
          "W_STEP_NOT_MATCHED_YET",
          `'${e.path}' is read as a field of the event, but '${head}' names a step that has not matched here: a step reads only earlier steps' fields (if a field was meant, rename the step)`,
        );
      }
      if (name !== undefined && ctx.symbols.macros.has(name)) {
        ctx.error(at, e.span, "E_MACRO_AS_VALUE", `'${name}' is a macro (a condition), not a value`);
      } else if (name !== undefined && ctx.symbols.lists.has(name)) {
        ctx.error(at, e.span, "E_LIST_AS_VALUE", `'${name}' is a list; use it after 'in'`);
      }
      return "unknown";
    }
    case "call":
      return checkCall(ctx, at, e);
    case "list":
      ctx.error(at, e.span, "E_LIST_AS_VALUE", "a list literal may only follow 'in'");
      return "unknown";
    case "regex":
      ctx.error(at, e.span, "E_BAD_REGEX", "a regular expression may only follow 'matches'");
      return "unknown";
    default:
      ctx.error(at, e.span, "E_CONDITION_AS_VALUE", "expected a value here (a field, a literal or a function call), found a condition");
      return "unknown";
  }
}

function checkCall(ctx: CheckContext, at: Located, e: A.CallExpr): ValueKind {
  const fn = FUNCTIONS.get(e.name);
  for (const a of e.args) checkValue(ctx, at, a);
  if (fn === undefined) {
    ctx.error(at, e.nameSpan, "E_UNKNOWN_FUNCTION", `unknown function '${e.name}'${didYouMean(e.name, FUNCTIONS.keys())}; known: ${[...FUNCTIONS.keys()].join(", ")}`);
    return "unknown";
  }
  if (e.args.length !== fn.arity) {
    ctx.error(at, e.span, "E_ARITY", `${e.name} takes ${fn.arity} argument${fn.arity === 1 ? "" : "s"}, got ${e.args.length}`);
  }
  return fn.returns;
}

function isConstant(e: A.Expr): boolean {
  return e.kind === "literal" || e.kind === "param";
}

function kindOfLiteral(v: A.LiteralValue): string {
  return v === null ? "null" : typeof v;
}

/** The value of a parameter (its default, or the configured override). */
export function paramValue(ctx: CheckContext, p: A.ParamExpr): A.LiteralValue | undefined {
  const decl = ctx.symbols.params.get(p.name);
  if (decl === undefined) return undefined;
  const v = decl.decl.value;
  return v.kind === "duration" ? v.ms : v.value;
}
