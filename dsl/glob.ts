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

/**
 * The shape of a glob, for callers that inline the common ones: `exact` (no wildcard),
 * `prefix` (`abc*`), `suffix` (`*abc`), `infix` (`*abc*`), with `text` the literal part
 * (after case folding when case-insensitive); `other` for anything else.
 */
export type GlobShape = { readonly kind: "exact" | "prefix" | "suffix" | "infix"; readonly text: string } | { readonly kind: "other" };

interface GlobPlan {
  readonly toks: readonly Token[];
  readonly norm: (x: string) => string;
  readonly shape: GlobShape;
}

function planGlob(pattern: string, caseInsensitive: boolean): GlobPlan {
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
  const text = (from: number, to: number) =>
    toks
      .slice(from, to)
      .map((t) => t.ch)
      .join("");
  const n = toks.length;
  const inner = (a: number, b: number) => toks.slice(a, b).every((t) => t.kind === "lit");
  let shape: GlobShape = { kind: "other" };
  if (inner(0, n)) shape = { kind: "exact", text: text(0, n) };
  else if (n >= 1 && toks[n - 1]?.kind === "star" && inner(0, n - 1)) shape = { kind: "prefix", text: text(0, n - 1) };
  else if (n >= 1 && toks[0]?.kind === "star" && inner(1, n)) shape = { kind: "suffix", text: text(1, n) };
  else if (n >= 2 && toks[0]?.kind === "star" && toks[n - 1]?.kind === "star" && inner(1, n - 1)) shape = { kind: "infix", text: text(1, n - 1) };
  return { toks, norm, shape };
}

/** The shape of a glob (see GlobShape); `compileGlob` matches the same way. */
export function globShape(pattern: string, caseInsensitive: boolean): GlobShape {
  return planGlob(pattern, caseInsensitive).shape;
}

const SURROGATE = /[\ud800-\udfff]/;

export function compileGlob(pattern: string, caseInsensitive: boolean): GlobMatcher {
  const { toks, norm, shape } = planGlob(pattern, caseInsensitive);
  // Fast paths for the common shapes: literal, prefix*, *suffix, *infix*.
  switch (shape.kind) {
    case "exact": {
      const lit = shape.text;
      return (x) => norm(x) === lit;
    }
    case "prefix": {
      const p = shape.text;
      return (x) => norm(x).startsWith(p);
    }
    case "suffix": {
      const p = shape.text;
      return (x) => norm(x).endsWith(p);
    }
    case "infix": {
      const p = shape.text;
      return (x) => norm(x).includes(p);
    }
    default:
      break;
  }
  // Literals and stars only (`a*b*c`, `*union*select*`): the literal runs in order, each at
  // its leftmost place, on UTF-16 units. With no `?`, and no surrogates in the literals (so
  // that a run can only match whole code points), that is the same as matching code points.
  if (toks.every((t) => t.kind !== "any") && !toks.some((t) => SURROGATE.test(t.ch))) {
    const runs: string[] = [""];
    for (const t of toks) {
      if (t.kind === "star") runs.push("");
      else runs[runs.length - 1] += t.ch;
    }
    return starChain(runs, norm);
  }
  return (x) => matchTokens(toks, Array.from(norm(x)));
}

/**
 * `runs[0]*runs[1]*…*runs[k]` (k ≥ 1): the text starts with the first run, ends with the
 * last, and holds the middle ones in order, without overlap, in between.
 */
function starChain(runs: readonly string[], norm: (x: string) => string): GlobMatcher {
  const head = runs[0] as string;
  const tail = runs[runs.length - 1] as string;
  const middle = runs.slice(1, -1).filter((r) => r !== "");
  const fixed = head.length + tail.length;
  return (x) => {
    const s = norm(x);
    if (s.length < fixed || !s.startsWith(head) || !s.endsWith(tail)) return false;
    const end = s.length - tail.length;
    let pos = head.length;
    for (let i = 0; i < middle.length; i++) {
      const run = middle[i] as string;
      const at = s.indexOf(run, pos);
      if (at === -1) return false;
      pos = at + run.length;
      if (pos > end) return false;
    }
    return true;
  };
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
