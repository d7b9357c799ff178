import type * as A from "../ast.js";
import { didYouMean } from "../suggest.js";
import { bareName, type CheckContext, type Located } from "./context.js";

/**
 * With a field schema configured, a field path the schema does not know is a warning (the
 * rule still loads: events may carry fields the schema lacks), with the closest known field.
 * Macro and list names and references to sequence steps are not fields.
 */
export function checkFieldsAgainstSchema(ctx: CheckContext, at: Located, schema: ReadonlySet<string>, steps: ReadonlySet<string>): void {
  const seen = new Set<string>();
  const visit = (node: unknown, inSet: boolean): void => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n, false);
      return;
    }
    const rec = node as Record<string, unknown>;
    if (rec.kind === "meta") return; // `severity high` is a word, not a field
    if (rec.kind === "field") {
      const f = node as A.FieldExpr;
      const name = bareName(f);
      if (name !== undefined && (ctx.symbols.macros.has(name) || (inSet && ctx.symbols.lists.has(name)))) return;
      const head = f.path.split(".")[0] ?? "";
      if (steps.has(head) && f.path.length > head.length) return;
      if (!schema.has(f.path) && !seen.has(f.path)) {
        seen.add(f.path);
        ctx.warn(at, f.span, "W_UNKNOWN_FIELD", `unknown field '${f.path}'${didYouMean(f.path, schema)}: the configured schema does not have it`);
      }
      return;
    }
    for (const [k, v] of Object.entries(rec)) if (k !== "span" && k !== "nameSpan" && k !== "name") visit(v, rec.kind === "in" && k === "set");
  };
  visit(at.decl, false);
}

/**
 * A schema file: one field path a line (`#` comments), or a JSON array of paths. Throws a
 * RangeError saying what is wrong with a JSON document that is not an array of paths.
 */
export function parseSchema(text: string): Set<string> {
  const t = text.trim();
  if (t.startsWith("[") || t.startsWith("{")) {
    let doc: unknown;
    try {
      doc = JSON.parse(t);
    } catch (err) {
      throw new RangeError(`not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(doc) || !doc.every((x) => typeof x === "string")) throw new RangeError("a JSON schema must be an array of field paths (strings), e.g. [\"source.ip\", \"user.name\"]");
    return new Set(doc);
  }
  return new Set(
    t
      .split(/\r?\n/)
      .map((l) => l.replace(/#.*/, "").trim())
      .filter((l) => l !== ""),
  );
}
