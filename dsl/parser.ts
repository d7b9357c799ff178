import nearley from "nearley";
import type { Comment, Decl } from "./ast.js";
import { type Diagnostic, makeDiagnostic } from "./diagnostics.js";
import grammar from "./grammar.js";
import { createLexer, describeTokenType, isTrivia, SOFT_KEYWORDS, type Token } from "./lexer.js";
import type { SourceFile, Span } from "./source.js";
import { TokenStream } from "./token-stream.js";

export interface ParsedFile {
  readonly source: SourceFile;
  /** Declarations that parsed; a broken one is left out and reported. */
  readonly decls: Decl[];
  readonly comments: Comment[];
  readonly diagnostics: Diagnostic[];
  /** Names of the declarations that did not parse (`rule NAME …` with a syntax error in it). */
  readonly unparsed: string[];
}

const compiled = nearley.Grammar.fromCompiled(grammar);

const DECL_KEYWORDS = new Set(["kw_rule", "kw_macro", "kw_list", "kw_param", "kw_settings", "kw_model"]);
const OPEN = new Set(["lbrace", "lparen", "lbracket"]);
const CLOSE = new Set(["rbrace", "rparen", "rbracket"]);

/** Parses one file of a pack. Never throws: problems come back as diagnostics. */
export function parseFile(source: SourceFile): ParsedFile {
  const diagnostics: Diagnostic[] = [];
  const comments: Comment[] = [];
  const tokens: Token[] = [];
  const lexer = createLexer();
  lexer.reset(source.text);
  for (let t = lexer.next(); t !== undefined; t = lexer.next()) {
    if (t.type === "comment") comments.push({ text: t.text, span: tokenSpan(t) });
    if (!isTrivia(t)) tokens.push(t);
  }

  const decls: Decl[] = [];
  const unparsed: string[] = [];
  const nameOf = (chunk: readonly Token[]) => {
    const [kw, name] = chunk;
    if (kw !== undefined && kw.type !== "kw_settings" && DECL_KEYWORDS.has(kw.type ?? "") && name !== undefined && (name.type === "ident" || SOFT_TYPES.has(name.type ?? ""))) unparsed.push(name.text);
  };
  for (const chunk of splitDeclarations(tokens)) {
    const lexProblem = chunk.find((t) => t.type === "unterminated_string" || t.type === "bad_number" || t.type === "bad_duration" || t.type === "invalid");
    if (lexProblem !== undefined) {
      diagnostics.push(lexDiagnostic(source, lexProblem));
      nameOf(chunk);
      continue;
    }
    const result = parseDecl(source, chunk);
    if ("diagnostic" in result) {
      diagnostics.push(result.diagnostic);
      nameOf(chunk);
    } else decls.push(result.decl);
  }
  return { source, decls, comments, diagnostics, unparsed };
}

function tokenSpan(t: Token): Span {
  return { start: t.offset, end: t.offset + t.text.length };
}

/**
 * Splits a file's tokens into declarations: a declaration keyword followed by a name (or
 * `settings {`) starts one, when it stands at nesting depth 0 or at the start of a line,
 * so that an unclosed brace in one rule does not swallow the rules after it.
 */
function splitDeclarations(tokens: readonly Token[]): Token[][] {
  const chunks: Token[][] = [];
  let cur: Token[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    const prev = tokens[i - 1];
    const startsDecl = DECL_KEYWORDS.has(t.type ?? "") && prev?.type !== "dot" && declarationShape(t, next, tokens[i + 2]) && (depth === 0 || t.col === 1);
    if (startsDecl && cur.length > 0) {
      chunks.push(cur);
      cur = [];
      depth = 0;
    }
    if (OPEN.has(t.type ?? "")) depth++;
    else if (CLOSE.has(t.type ?? "")) depth = Math.max(0, depth - 1);
    cur.push(t);
  }
  if (cur.length > 0) chunks.push(cur);
  return chunks;
}

/**
 * Whether a declaration keyword really starts one: `rule NAME {`, `model NAME {`,
 * `macro|list|param NAME =`, `settings {` — not a field named `list` ending an expression.
 */
function declarationShape(kw: Token, name: Token | undefined, after: Token | undefined): boolean {
  if (kw.type === "kw_settings") return name?.type === "lbrace";
  if (name === undefined || !(name.type === "ident" || SOFT.includes(name.type ?? ""))) return false;
  // A missing `{` or `=` still starts a declaration at the start of a line (and is reported).
  if (after === undefined) return true;
  const want = kw.type === "kw_rule" || kw.type === "kw_model" ? "lbrace" : "eq";
  return after.type === want || kw.col === 1;
}

function lexDiagnostic(source: SourceFile, t: Token): Diagnostic {
  switch (t.type) {
    case "unterminated_string":
      return makeDiagnostic(source, tokenSpan(t), "E_UNTERMINATED_STRING", "unterminated string: add the closing quote on the same line");
    case "bad_duration":
      return makeDiagnostic(source, tokenSpan(t), "E_BAD_NUMBER", `'${t.text}' is not a duration: durations are whole numbers of a unit, e.g. 90m rather than 1.5h`);
    case "bad_number":
      return makeDiagnostic(
        source,
        tokenSpan(t),
        "E_BAD_NUMBER",
        `'${t.text}' is neither a number nor a duration: write a number like 5 or 2.5, or a duration like 500ms, 30s, 5m, 1h, 7d, 2w`,
      );
    default:
      return makeDiagnostic(source, tokenSpan(t), "E_UNEXPECTED_CHAR", `unexpected character '${t.text}'`);
  }
}

type DeclResult = { decl: Decl } | { diagnostic: Diagnostic };

interface EarleyState {
  rule: { symbols: unknown[] };
  dot: number;
}

function parseDecl(source: SourceFile, chunk: readonly Token[]): DeclResult {
  const first = chunk[0] as Token;
  if (!DECL_KEYWORDS.has(first.type ?? "")) {
    return {
      diagnostic: makeDiagnostic(
        source,
        tokenSpan(first),
        "E_EXPECTED_DECLARATION",
        `expected a declaration (rule, macro, list, param, model or settings), found '${first.text}'`,
      ),
    };
  }
  const parser = new nearley.Parser(compiled, { lexer: new TokenStream(chunk) });
  try {
    parser.feed("");
  } catch (err) {
    const bad = (err as { token?: Token }).token ?? first;
    const table = (parser as unknown as { table: { states: EarleyState[] }[] }).table;
    const column = table[table.length - 2];
    const idx = chunk.indexOf(bad);
    const prev = idx > 0 ? chunk[idx - 1] : undefined;
    const beforePrev = idx > 1 ? chunk[idx - 2] : undefined;
    // A clause keyword that starts its line was taken as a name (they are soft keywords: `tags`
    // is also a field), because the clause before it was left incomplete: say so, there.
    const expectedThere = prev !== undefined && beforePrev !== undefined && CLAUSE_KEYWORDS.includes(prev.type ?? "") && prev.line > beforePrev.line ? expectedAfter(chunk.slice(0, idx - 1)) : undefined;
    if (prev !== undefined && beforePrev !== undefined && expectedThere?.has("ident") === true) {
      return {
        diagnostic: makeDiagnostic(
          source,
          tokenSpan(prev),
          "E_SYNTAX",
          `expected ${describeExpected(expectedThere)} after '${beforePrev.text}' (line ${beforePrev.line}), found the clause '${prev.text}': complete the line before it`,
        ),
      };
    }
    // `first seen by user.name`: `by` was read as the watched field's name.
    if (prev !== undefined && prev.text === "by" && beforePrev?.text === "seen") {
      return {
        diagnostic: makeDiagnostic(source, tokenSpan(prev), "E_SYNTAX", "first seen needs the field whose new values it watches before 'by': first seen FIELD [by KEY, …] [learning D]"),
      };
    }
    return { diagnostic: syntaxDiagnostic(source, bad, prev, expectedTypes(column?.states)) };
  }
  const results = parser.results as Decl[];
  if (results.length === 0) {
    const table = (parser as unknown as { table: { states: EarleyState[] }[] }).table;
    const last = chunk[chunk.length - 1] as Token;
    const expected = expectedTypes(table[table.length - 1]?.states);
    const what = describeExpected(expected);
    const span = { start: last.offset + last.text.length, end: last.offset + last.text.length + 1 };
    const name = chunk[1]?.text ?? "";
    return {
      diagnostic: makeDiagnostic(
        source,
        span,
        "E_UNEXPECTED_END",
        `unexpected end of ${first.text} '${name}': expected ${what} after '${last.text}'`,
      ),
    };
  }
  const decl = results[0] as Decl;
  const deep = deepestExpression(decl);
  if (deep !== undefined) {
    return {
      diagnostic: makeDiagnostic(
        source,
        deep.span,
        "E_TOO_DEEP",
        `this expression nests more than ${MAX_EXPRESSION_DEPTH} levels deep: use 'in [...]' for long alternatives, or split it into macros`,
      ),
    };
  }
  return { decl };
}

/** The token types the parser expects after `tokens` (a prefix that parses), for messages. */
function expectedAfter(tokens: readonly Token[]): Set<string> {
  const parser = new nearley.Parser(compiled, { lexer: new TokenStream(tokens) });
  try {
    parser.feed("");
  } catch {
    return new Set();
  }
  const table = (parser as unknown as { table: { states: EarleyState[] }[] }).table;
  return expectedTypes(table[table.length - 1]?.states);
}

/** Deeper expressions would overflow the stack of the recursive passes after the parser. */
export const MAX_EXPRESSION_DEPTH = 400;

/** The first node nested deeper than the limit, found without recursion. */
function deepestExpression(decl: Decl): { span: Span } | undefined {
  const stack: [unknown, number][] = [[decl, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== "object") continue;
    if (depth > MAX_EXPRESSION_DEPTH && "span" in node) return node as { span: Span };
    const nested = "kind" in node ? depth + 1 : depth;
    for (const v of Object.values(node)) if (v !== null && typeof v === "object") stack.push([v, nested]);
  }
  return undefined;
}

function expectedTypes(states: EarleyState[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const s of states ?? []) {
    const sym = s.rule.symbols[s.dot];
    if (sym !== null && typeof sym === "object" && "type" in sym) out.add(String((sym).type));
  }
  return out;
}

const CLAUSE_KEYWORDS = ["kw_title", "kw_description", "kw_severity", "kw_risk", "kw_tags", "kw_enabled", "kw_author", "kw_version", "kw_when", "kw_except", "kw_count", "kw_distinct", "kw_sum", "kw_avg", "kw_min", "kw_max", "kw_suppress", "kw_then"];
const OPERATORS = ["eqeq", "ne", "eqci", "neci", "lt", "le", "gt", "ge", "kw_in", "kw_contains", "kw_startswith", "kw_endswith", "kw_like", "kw_cidr", "kw_not"];
const SOFT = SOFT_KEYWORDS.map((k) => `kw_${k}`);
const SOFT_TYPES: ReadonlySet<string> = new Set(SOFT);

/** Turns the set of expected token types into words: "a duration like 5m", "'}' or a rule clause". */
function describeExpected(types: Set<string>): string {
  const t = new Set(types);
  const parts: string[] = [];
  // Where a name may stand, every soft keyword is expected as a name, not as what it starts.
  if (t.has("ident")) for (const k of SOFT) t.delete(k);
  const hasAllClauses = CLAUSE_KEYWORDS.every((k) => t.has(k));
  if (hasAllClauses) for (const k of CLAUSE_KEYWORDS) t.delete(k);
  const hasOperators = OPERATORS.filter((k) => t.has(k)).length >= 5;
  if (hasOperators) for (const k of OPERATORS) t.delete(k);
  if (t.has("kw_and") && t.has("kw_or")) {
    t.delete("kw_and");
    t.delete("kw_or");
    parts.push("'and', 'or'");
  }
  const order = ["duration", "number", "string", "ident", "param"];
  const sorted = [...t].sort((a, b) => rank(a, order) - rank(b, order));
  for (const k of sorted) parts.push(describeTokenType(k));
  if (hasOperators) parts.push("an operator (==, !=, <, in, contains, …)");
  if (hasAllClauses) parts.push("a rule clause (title, severity, tags, when, except, count, suppress, then, …)");
  if (parts.length === 0) return "something else";
  if (parts.length === 1) return parts[0] as string;
  return `${parts.slice(0, -1).join(", ")} or ${parts[parts.length - 1] as string}`;
}

function rank(k: string, order: string[]): number {
  const i = order.indexOf(k);
  return i === -1 ? order.length : i;
}

function syntaxDiagnostic(source: SourceFile, bad: Token, prev: Token | undefined, expected: Set<string>): Diagnostic {
  const span = tokenSpan(bad);
  if (bad.type === "eq" && expected.has("eqeq")) {
    return makeDiagnostic(source, span, "E_SYNTAX", "compare with == instead of =");
  }
  const after = prev === undefined ? "" : ` after '${prev.text}'`;
  // A threshold (or other number slot) written negative: the grammar takes none; a param may hold one.
  const hint = bad.text === "-" && expected.has("number") && expected.has("param") ? " (a negative number is written as a parameter: param min_delta = -5, then $min_delta)" : "";
  return makeDiagnostic(source, span, "E_SYNTAX", `expected ${describeExpected(expected)}${after}, found '${bad.text}'${hint}`);
}
