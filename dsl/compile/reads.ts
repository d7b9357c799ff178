import type * as A from "../ast.js";
import { splitFieldPath } from "../fields.js";

/**
 * The field paths a set of declarations may read, as flat dotted keys (`labels."a.b"` →
 * `labels.a.b`), with macros expanded. Over-approximated, never under: every field expression
 * anywhere in the declarations counts (conditions, keys, aggregates, actions' arguments,
 * suppression, model features), a macro's name counts as well as its fields, and a path that
 * may name a sequence step's field (`fail.user.name`) counts with and without its first segment.
 */
export function fieldReads(decls: readonly A.Decl[], macros: ReadonlyMap<string, A.Expr>): Set<string> {
  const out = new Set<string>();
  const expanded = new Set<string>();
  const add = (path: string): void => {
    const segs = splitFieldPath(path);
    out.add(segs.join("."));
    if (segs.length > 1) out.add(segs.slice(1).join("."));
  };
  // Iterative walk over the plain AST objects (a condition may nest deeply).
  const stack: unknown[] = [...decls];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== "object") continue;
    if (Array.isArray(node)) {
      for (const n of node) stack.push(n);
      continue;
    }
    const rec = node as Record<string, unknown>;
    if (rec.kind === "field" && typeof rec.path === "string") {
      add(rec.path);
      const m = macros.get(rec.path);
      if (m !== undefined && !expanded.has(rec.path)) {
        expanded.add(rec.path);
        stack.push(m);
      }
      continue;
    }
    for (const [k, v] of Object.entries(rec)) if (k !== "span" && k !== "nameSpan") stack.push(v);
  }
  return out;
}

/**
 * Whether an event's top-level key `key` (a flat dotted key, or the root of nested objects)
 * can hold a value any of `reads` resolves to: it is one of them, a dotted prefix of one (a
 * nested object on the way), or extends one.
 */
export function keyIsRead(key: string, reads: ReadonlySet<string>): boolean {
  if (reads.has(key)) return true;
  for (const p of reads) {
    if (p.length > key.length ? p.startsWith(key) && p.charCodeAt(key.length) === 46 : key.startsWith(p) && key.charCodeAt(p.length) === 46) return true;
  }
  return false;
}
