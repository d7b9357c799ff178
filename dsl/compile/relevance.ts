import type * as A from "../ast.js";
import type { EventFields } from "../fields.js";
import { compilePredicate } from "./codegen.js";
import type { CompileEnv } from "./conditions.js";
import type { CompiledRule } from "./rules.js";

/**
 * Whether any enabled rule of a pack may act on an event: one generated function testing each
 * rule's {@link CompiledRule.relevance} (the fields they read are read once). False means
 * that every rule the event would go to leaves it, so a reader may hand the engine only its
 * time (`Engine.pass`). (The engine's dispatch needs no test of its own: a rule is only sent
 * events that its `when` or steps can match, which `relevance` implies.)
 */
export function compilePackRelevance(rules: readonly CompiledRule[], env: CompileEnv): (fields: EventFields) => boolean {
  const conds = rules.filter((r) => r.enabled).map((r) => r.relevance);
  if (conds.length === 0) return () => false;
  return compilePredicate(
    conds.reduce((l, r): A.Expr => ({ kind: "or", left: l, right: r, span: r.span })),
    env,
  );
}
