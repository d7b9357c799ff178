/**
 * The canonical form of a rule file (`vigil fmt`): 2-space indentation inside blocks, one
 * clause per line in the analyst's order, one blank line between declarations, strings in
 * double quotes with minimal escapes, durations and field paths as written, parentheses only
 * where precedence needs them (or < and < not < predicate).
 *
 * Comments are kept. They are attached by their spans: a comment at the end of a line stays
 * at the end of the line of the construct it follows; a comment on its own line(s) stays
 * before the declaration, clause, step or setting that follows it (or before the closing
 * brace when nothing follows); a comment that falls inside a construct printed on one line
 * (an expression, a list) goes on its own line before that construct. Blank lines the
 * analyst left between clauses or around comments are kept (at most one); none are added.
 */
import type * as A from "./ast.js";
import { makeDiagnostic, type Diagnostic } from "./diagnostics.js";
import { parseFile } from "./parser.js";
import { SourceFile, type Span } from "./source.js";

/* ---- literals ---- */

const STRING_ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0" };

/** The body of a double-quoted string (what `unquote` reads back), without the quotes. */
function escapeBody(s: string, quote: boolean): string {
  return s.replace(quote ? /[\\"\n\r\t\0]/g : /[\\\n\r\t\0]/g, (c) => STRING_ESCAPES[c] as string);
}

/** A string literal: double quotes, escaping only what the lexer needs (and invisible controls). */
export function printString(s: string): string {
  return `"${escapeBody(s, true)}"`;
}

/**
 * A number as the lexer reads it back exactly: no exponent (the lexer has none), `-0` kept.
 * Throws on NaN and infinities, which no parsed file holds.
 */
export function printNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`cannot print the number ${n}`);
  if (n < 0 || Object.is(n, -0)) return `-${printNumber(-n)}`;
  const s = String(n);
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const digits = (m[1] as string) + (m[2] ?? "");
  const point = 1 + Number(m[3]);
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * A field path as in `FieldExpr.path`: quoted segments stay quoted; inside them backslashes
 * and control characters are escaped again (the parser unescaped them).
 */
export function printFieldPath(path: string): string {
  if (!path.includes('"')) return path;
  // The path keeps quoted segments with `"` and `\\` escaped (as the parser builds it); only
  // control characters inside them need escaping to be written back.
  let out = "";
  let quoted = false;
  for (let i = 0; i < path.length; i++) {
    const ch = path[i] as string;
    if (quoted && ch === "\\" && i + 1 < path.length) {
      out += ch + (path[++i] as string);
    } else if (ch === '"') {
      quoted = !quoted;
      out += ch;
    } else out += quoted ? escapeBody(ch, false) : ch;
  }
  return out;
}

/** `/pattern/flags`: the parser unescapes `\/`, so every `/` of the pattern is escaped again. */
function printRegex(r: A.RegexExpr): string {
  return `/${r.pattern.replace(/\//g, "\\/")}/${r.flags}`;
}

function printLiteral(v: A.LiteralValue): string {
  if (typeof v === "string") return printString(v);
  if (typeof v === "number") return printNumber(v);
  return String(v);
}

/* ---- expressions ---- */

/** Binding strength: or 1 < and 2 < not 3 < predicate 4 < operand 5. */
function precedence(e: A.Expr): number {
  switch (e.kind) {
    case "or":
      return 1;
    case "and":
      return 2;
    case "not":
      return 3;
    case "compare":
    case "strmatch":
    case "in":
    case "cidr":
    case "exists":
      return 4;
    default:
      return 5;
  }
}

const OPERAND = 5;

function sub(e: A.Expr, min: number): string {
  const text = printExpr(e);
  return precedence(e) < min ? `(${text})` : text;
}

const ci = (flag: boolean): string => (flag ? "~" : "");

/** An expression on one line, with the parentheses precedence needs and no others. */
export function printExpr(e: A.Expr): string {
  switch (e.kind) {
    case "literal":
      return printLiteral(e.value);
    case "duration":
      return e.text;
    case "field":
      return printFieldPath(e.path);
    case "param":
      return `$${e.name}`;
    case "regex":
      return printRegex(e);
    case "list":
      return `[${e.items.map((i) => sub(i, OPERAND)).join(", ")}]`;
    case "call":
      return `${e.name}(${e.args.map(printExpr).join(", ")})`;
    case "not":
      return `not ${sub(e.operand, 3)}`;
    case "or":
      return `${sub(e.left, 1)} or ${sub(e.right, 2)}`;
    case "and":
      return `${sub(e.left, 2)} and ${sub(e.right, 3)}`;
    case "compare":
      return `${sub(e.left, OPERAND)} ${e.op}${ci(e.ci)} ${sub(e.right, OPERAND)}`;
    case "strmatch":
      return `${sub(e.left, OPERAND)} ${e.op}${ci(e.ci)} ${sub(e.right, OPERAND)}`;
    case "in":
      return `${sub(e.left, OPERAND)} ${e.negated ? "not " : ""}in${ci(e.ci)} ${sub(e.set, OPERAND)}`;
    case "cidr":
      return `${sub(e.left, OPERAND)} cidr ${sub(e.right, OPERAND)}`;
    case "exists":
      return `exists ${printFieldPath(e.field.path)}`;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/* ---- clauses and declarations, as lines ---- */

const fields = (fs: readonly A.FieldExpr[]): string => fs.map((f) => printFieldPath(f.path)).join(", ");
const byPart = (fs: readonly A.FieldExpr[]): string => (fs.length > 0 ? ` by ${fields(fs)}` : "");

/** What the layout knows of a construct: one line, or a block of lines around children. */
type Item =
  | { readonly kind: "line"; readonly span: Span; readonly text: string }
  | {
      readonly kind: "block";
      readonly span: Span;
      readonly head: string;
      readonly children: readonly Item[];
      readonly foot: string;
      /** Comments inside the block from here on (the `until` expression) go before it. */
      readonly outsideFrom: number | undefined;
    };

const line = (span: Span, text: string): Item => ({ kind: "line", span, text });

function block(span: Span, head: string, children: readonly Item[], foot = "}", outsideFrom?: number): Item {
  return { kind: "block", span, head, children, foot, outsideFrom };
}

function actionText(a: A.ActionCall): string {
  const args = a.args.map((x) => (x.name === undefined ? "" : `${x.name.name}: `) + printExpr(x.value)).join(", ");
  return `${a.name.name}(${args})${a.mode === undefined ? "" : ` ${a.mode}`}`;
}

function clauseItem(c: A.RuleClause): Item {
  switch (c.kind) {
    case "meta":
      return line(c.span, `${c.key} ${printExpr(c.value)}`);
    case "tags":
      return line(c.span, `tags ${c.tags.map((t) => t.name).join(", ")}`);
    case "when":
    case "except":
      return line(c.span, `${c.kind} ${printExpr(c.expr)}`);
    case "threshold": {
      const agg = c.agg === "count" || c.field === undefined ? c.agg : `${c.agg}(${printFieldPath(c.field.path)})`;
      return line(c.span, `${agg} ${c.op} ${printExpr(c.value)} within ${c.within.text}${byPart(c.by)}`);
    }
    case "suppress":
      return line(c.span, `suppress ${c.within.text}${byPart(c.by)}`);
    case "then":
      return line(c.span, `then ${c.actions.map(actionText).join(", ")}`);
    case "sequence": {
      const steps = c.steps.map((s) => {
        const rep = s.repeat === undefined ? "" : ` repeat ${s.repeat.op} ${printExpr(s.repeat.value)}`;
        return line(s.span, `${s.name.name}: ${printExpr(s.expr)}${rep}${byPart(s.by)}`);
      });
      const head = `sequence${byPart(c.by)} within ${c.within.text} {`;
      const foot = c.until === undefined ? "}" : `} until ${printExpr(c.until)}`;
      return block(c.span, head, steps, foot, c.until?.span.start);
    }
    case "absent":
      return line(c.span, `absent for ${c.for.text}${byPart(c.by)}`);
    case "first_seen":
      return line(c.span, `first seen ${fields(c.fields)}${byPart(c.by)}${c.learning === undefined ? "" : ` learning ${c.learning.text}`}`);
    case "anomaly": {
      const features = c.features === undefined ? "" : `(${c.features.map(printExpr).join(", ")})`;
      return line(c.span, `anomaly ${c.model.name}${features} ${c.op} ${printExpr(c.value)}`);
    }
    default: {
      const never: never = c;
      return never;
    }
  }
}

function modelClauseItem(c: A.ModelClause): Item {
  switch (c.kind) {
    case "features":
      return line(c.span, `features ${c.features.map(printExpr).join(", ")}`);
    case "by":
      return line(c.span, `by ${fields(c.by)}`);
    case "train":
    case "retrain":
      return line(c.span, `${c.kind} ${c.duration.text}`);
    default: {
      const never: never = c;
      return never;
    }
  }
}

function declItem(d: A.Decl): Item {
  switch (d.kind) {
    case "rule":
      return block(d.span, `rule ${d.name.name} {`, d.clauses.map(clauseItem));
    case "model":
      return block(d.span, `model ${d.name.name} {`, d.clauses.map(modelClauseItem));
    case "settings":
      return block(
        d.span,
        "settings {",
        d.settings.map((s) => line(s.span, `${s.name.name} ${printExpr(s.value)}`)),
      );
    case "macro":
      return line(d.span, `macro ${d.name.name} = ${printExpr(d.expr)}`);
    case "param":
      return line(d.span, `param ${d.name.name} = ${printExpr(d.value)}`);
    case "list": {
      const src = d.source.kind === "file" ? `file(${printString(d.source.path)})` : printExpr(d.source);
      return line(d.span, `list ${d.name.name} = ${src}`);
    }
    default: {
      const never: never = d;
      return never;
    }
  }
}

/** One declaration in canonical form, without comments (no trailing newline). */
export function printDecl(d: A.Decl): string {
  return new Layout(undefined).file([d], []).replace(/\n$/, "");
}

/* ---- layout with comments ---- */

interface Slot {
  /** Own-line comments before the item. */
  readonly leading: A.Comment[];
  /** Comments at the end of the item's last line. */
  readonly trailing: A.Comment[];
  /** Comments inside the item's span. */
  readonly inner: A.Comment[];
}

const INDENT = "  ";

class Layout {
  readonly lines: string[] = [];

  constructor(private readonly text: string | undefined) {}

  file(decls: readonly A.Decl[], comments: readonly A.Comment[]): string {
    const sorted = [...comments].sort((a, b) => a.span.start - b.span.start);
    this.items(decls.map(declItem), sorted, "", true);
    return this.lines.length === 0 ? "" : this.lines.join("\n") + "\n";
  }

  /** Without the source, line breaks are unknown: every comment then goes on its own line. */
  private newlineBetween(from: number, to: number): boolean {
    return this.text === undefined || this.text.slice(from, to).includes("\n");
  }

  private blankBetween(from: number, to: number): boolean {
    return this.text !== undefined && to > from && /\n[^\S\n]*\n/.test(this.text.slice(from, to));
  }

  /** Attaches comments to the items of one level (in source order), by their spans. */
  private distribute(items: readonly Item[], comments: readonly A.Comment[]): { slots: Slot[]; after: A.Comment[] } {
    const slots: Slot[] = items.map(() => ({ leading: [], trailing: [], inner: [] }));
    const after: A.Comment[] = [];
    for (const c of comments) {
      const at = c.span.start;
      const inside = items.findIndex((it) => it.span.start <= at && at < it.span.end);
      if (inside >= 0) {
        slots[inside]?.inner.push(c);
        continue;
      }
      let prev = -1;
      items.forEach((it, i) => {
        if (it.span.end <= at) prev = i;
      });
      const prevItem = items[prev];
      if (prevItem !== undefined && !this.newlineBetween(prevItem.span.end, at)) {
        slots[prev]?.trailing.push(c);
        continue;
      }
      const next = items.findIndex((it) => it.span.start >= c.span.end);
      if (next >= 0) slots[next]?.leading.push(c);
      else after.push(c);
    }
    return { slots, after };
  }

  /** Own-line comments, keeping a blank line where the analyst left one (before `nextStart` too). */
  private comments(cs: readonly A.Comment[], indent: string, nextStart: number | undefined): void {
    cs.forEach((c, k) => {
      this.lines.push(indent + c.text.trimEnd());
      const next = cs[k + 1]?.span.start ?? nextStart;
      if (next !== undefined && this.blankBetween(c.span.end, next)) this.lines.push("");
    });
  }

  private items(items: readonly Item[], comments: readonly A.Comment[], indent: string, top: boolean): void {
    const { slots, after } = this.distribute(items, comments);
    let prevEnd: number | undefined;
    items.forEach((item, i) => {
      const slot = slots[i] as Slot;
      const first = slot.leading[0]?.span.start ?? item.span.start;
      if (top ? i > 0 : prevEnd !== undefined && this.blankBetween(prevEnd, first)) this.lines.push("");

      // Comments inside the item: in a block, they go to its header line, its children or
      // before its closing brace; inside a line (or the `until` expression), before the item.
      let before: A.Comment[] = slot.inner;
      let header: A.Comment | undefined;
      let innerRest: A.Comment[] = [];
      if (item.kind === "block") {
        const outsideFrom = item.outsideFrom;
        before = outsideFrom === undefined ? [] : slot.inner.filter((c) => c.span.start >= outsideFrom);
        innerRest = slot.inner.filter((c) => !before.includes(c));
        const firstChild = item.children[0];
        const h = innerRest[0];
        if (
          h !== undefined &&
          (firstChild === undefined || h.span.start < firstChild.span.start) &&
          !this.newlineBetween(item.span.start, h.span.start)
        ) {
          header = h;
          innerRest = innerRest.slice(1);
        }
      }
      this.comments([...slot.leading, ...before], indent, item.span.start);

      const [trail, ...moreTrail] = slot.trailing;
      const suffix = trail === undefined ? "" : ` ${trail.text.trimEnd()}`;
      if (item.kind === "line") {
        this.lines.push(indent + item.text + suffix);
      } else {
        this.lines.push(indent + item.head + (header === undefined ? "" : ` ${header.text.trimEnd()}`));
        this.items(item.children, innerRest, indent + INDENT, false);
        this.lines.push(indent + item.foot + suffix);
      }
      // Only one comment fits at the end of a line; any other (never from a parsed file) follows it.
      this.comments(moreTrail, indent, undefined);
      prevEnd = slot.trailing[slot.trailing.length - 1]?.span.end ?? item.span.end;
    });
    const firstAfter = after[0];
    if (firstAfter !== undefined) {
      if (prevEnd !== undefined && this.blankBetween(prevEnd, firstAfter.span.start)) this.lines.push("");
      this.comments(after, indent, undefined);
    }
  }
}

/**
 * The canonical text of a file: `decls` and `comments` as `parseFile` returns them. The
 * source (its text) tells where lines break, so that trailing comments and blank lines are
 * kept; without it every comment goes on its own line.
 */
export function printFile(decls: readonly A.Decl[], comments: readonly A.Comment[] = [], source?: SourceFile | string): string {
  const text = typeof source === "string" ? source : source?.text;
  return new Layout(text).file(decls, comments);
}

/* ---- formatting a file, checked ---- */

/** A copy of a syntax tree without spans (`span`, `nameSpan`), to compare trees by content. */
export function stripSpans<T>(node: T): T {
  if (Array.isArray(node)) return node.map((x: unknown) => stripSpans(x)) as T;
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "span" || k === "nameSpan") continue;
    out[k] = stripSpans(v);
  }
  return out as T;
}

/** Comment texts as a sorted multiset: a comment inside a one-line construct moves before it. */
const commentTexts = (cs: readonly A.Comment[]): string[] => cs.map((c) => c.text.trimEnd()).sort();

export type FormatResult =
  | { readonly ok: true; readonly text: string; readonly changed: boolean }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/**
 * Formats one file. A file with syntax errors is not formatted (its diagnostics come back).
 * The result is parsed again and must hold the same declarations and comments: should the
 * printer ever get that wrong, the file is reported (E_FORMAT) rather than rewritten.
 */
export function formatSource(source: SourceFile): FormatResult {
  const parsed = parseFile(source);
  if (parsed.diagnostics.length > 0) return { ok: false, diagnostics: parsed.diagnostics };
  const text = printFile(parsed.decls, parsed.comments, source);
  const again = parseFile(new SourceFile(source.path, text));
  const same =
    again.diagnostics.length === 0 &&
    JSON.stringify(stripSpans(again.decls)) === JSON.stringify(stripSpans(parsed.decls)) &&
    JSON.stringify(commentTexts(again.comments)) === JSON.stringify(commentTexts(parsed.comments));
  if (!same) {
    const where = again.diagnostics[0];
    return {
      ok: false,
      diagnostics: [
        makeDiagnostic(
          source,
          { start: 0, end: 0 },
          "E_FORMAT",
          `the formatter cannot print this file without changing its meaning${where === undefined ? "" : ` (its output would not parse at line ${where.line})`}; the file is left as it is: please report it`,
        ),
      ],
    };
  }
  return { ok: true, text, changed: text !== source.text };
}
