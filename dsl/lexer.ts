import moo from "moo";

/**
 * Keywords that can never be a field name: operators and literals. Every other keyword
 * ("count", "file", "version", …) is soft: it may start a field path (`file.path`).
 */
export const HARD_KEYWORDS = [
  "and", "or", "not", "in", "contains", "startswith", "endswith", "like", "matches", "cidr", "exists",
  "true", "false", "null",
] as const;

/** Keywords that start declarations and clauses; usable as field names where unambiguous. */
export const SOFT_KEYWORDS = [
  "rule", "macro", "list", "param", "settings", "file",
  "title", "description", "severity", "risk", "tags", "enabled", "author", "version",
  "when", "except", "count", "distinct", "sum", "avg", "min", "max", "within", "by",
  "suppress", "then", "dry_run", "approve",
  "model", "features", "train", "retrain", "sequence", "until", "repeat", "absent", "for", "first",
  "seen", "learning", "anomaly",
] as const;

export type Keyword = (typeof HARD_KEYWORDS)[number] | (typeof SOFT_KEYWORDS)[number];

const keywordTypes: Record<string, string> = {};
for (const k of [...HARD_KEYWORDS, ...SOFT_KEYWORDS]) keywordTypes[`kw_${k}`] = k;

/** The token rules. Order matters: durations before numbers, `==~` before `==`. */
export const lexerRules = {
  // JavaScript's \s: every Unicode space, line and paragraph separator, and the byte order mark.
  ws: { match: /\s+/, lineBreaks: true },
  comment: /#[^\n]*/,
  duration: /\d+(?:ms|s|m|h|d|w)(?![A-Za-z0-9_])/,
  bad_duration: /\d+\.\d+(?:ms|s|m|h|d|w)(?![A-Za-z0-9_])/,
  number: /\d+(?:\.\d+)?(?![A-Za-z0-9_])/,
  string: /"(?:\\[^\n]|[^"\\\n])*"|'(?:\\[^\n]|[^'\\\n])*'/,
  param: /\$[A-Za-z_][A-Za-z0-9_]*/,
  ident: { match: /@?[A-Za-z_][A-Za-z0-9_]*/, type: moo.keywords(keywordTypes) },
  eqci: "==~",
  neci: "!=~",
  eqeq: "==",
  ne: "!=",
  le: "<=",
  ge: ">=",
  lt: "<",
  gt: ">",
  eq: "=",
  tilde: "~",
  lbrace: "{",
  rbrace: "}",
  lparen: "(",
  rparen: ")",
  lbracket: "[",
  rbracket: "]",
  comma: ",",
  colon: ":",
  dot: ".",
  minus: "-",
  regex: /\/(?:\\[^\n]|[^/\\\n])+\/[a-z]*/,
  unterminated_string: /"(?:\\[^\n]|[^"\\\n])*|'(?:\\[^\n]|[^'\\\n])*/,
  bad_number: /\d[A-Za-z0-9_.]*/,
  invalid: /[^\s]/,
};

/** A fresh lexer (moo lexers are stateful; one per file). */
export function createLexer(): moo.Lexer {
  return moo.compile(lexerRules);
}

export type Token = moo.Token;

/** Tokens that the grammar never sees: whitespace and comments. */
export function isTrivia(t: Token): boolean {
  return t.type === "ws" || t.type === "comment";
}

/** A human name for a token type, used in "expected …" messages. */
export function describeTokenType(type: string): string {
  if (type.startsWith("kw_")) return `'${type.slice(3)}'`;
  switch (type) {
    case "duration":
      return "a duration like 5m";
    case "number":
      return "a number";
    case "string":
      return "a string";
    case "param":
      return "a parameter like $name";
    case "ident":
      return "a name";
    case "regex":
      return "a regular expression like /ab+c/i";
    default: {
      const lit = (lexerRules as Record<string, unknown>)[type];
      return typeof lit === "string" ? `'${lit}'` : type;
    }
  }
}
