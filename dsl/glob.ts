/**
 * Glob matching for `like`: `*` matches any run of characters, `?` exactly one. Linear
 * in practice and never exponential (greedy star with a single backtrack point), so it is
 * safe on attacker-controlled text. `\*` and `\?` match the characters themselves.
 */
export type GlobMatcher = (text: string) => boolean;

interface Token {
  readonly ch: string;
  readonly kind: "lit" | "any" | "star";
}

export function compileGlob(pattern: string, caseInsensitive: boolean): GlobMatcher {
  // Case folding of the whole pattern and the whole text alike (İ and final Σ fold by context),
  // then code points: `?` is one character, not one UTF-16 unit.
  const norm = caseInsensitive ? (x: string) => x.toLowerCase() : (x: string) => x;
  const chars = Array.from(norm(pattern));
  const toks: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === "\\" && i + 1 < chars.length) toks.push({ ch: chars[++i] as string, kind: "lit" });
    else if (c === "*") {
      if (toks[toks.length - 1]?.kind !== "star") toks.push({ ch: "", kind: "star" });
    } else if (c === "?") toks.push({ ch: "", kind: "any" });
    else toks.push({ ch: c, kind: "lit" });
  }
  // Fast paths for the common shapes: literal, prefix*, *suffix, *infix*.
  const text = (from: number, to: number) =>
    toks
      .slice(from, to)
      .map((t) => t.ch)
      .join("");
  const n = toks.length;
  const inner = (a: number, b: number) => toks.slice(a, b).every((t) => t.kind === "lit");
  if (inner(0, n)) {
    const lit = text(0, n);
    return (x) => norm(x) === lit;
  }
  if (n >= 1 && toks[n - 1]?.kind === "star" && inner(0, n - 1)) {
    const p = text(0, n - 1);
    return (x) => norm(x).startsWith(p);
  }
  if (n >= 1 && toks[0]?.kind === "star" && inner(1, n)) {
    const p = text(1, n);
    return (x) => norm(x).endsWith(p);
  }
  if (n >= 2 && toks[0]?.kind === "star" && toks[n - 1]?.kind === "star" && inner(1, n - 1)) {
    const p = text(1, n - 1);
    return (x) => norm(x).includes(p);
  }
  return (x) => matchTokens(toks, Array.from(norm(x)));
}

function matchTokens(toks: readonly Token[], s: readonly string[]): boolean {
  let ti = 0;
  let si = 0;
  let starT = -1;
  let starS = 0;
  while (si < s.length) {
    const t = toks[ti];
    if (t !== undefined && t.kind === "star") {
      starT = ti++;
      starS = si;
    } else if (t !== undefined && (t.kind === "any" || t.ch === s[si])) {
      ti++;
      si++;
    } else if (starT !== -1) {
      ti = starT + 1;
      si = ++starS;
    } else return false;
  }
  while (toks[ti]?.kind === "star") ti++;
  return ti === toks.length;
}
