/**
 * Regular expressions for `matches`. They run on attacker-controlled text, so they run in
 * linear time: on RE2 (the `re2` package), no catastrophic backtracking. RE2 has no
 * backreferences and no lookaround; such patterns are refused at check time.
 *
 * Patterns of a small subset (ASCII literals, escapes of punctuation, `\d`, `\w`, positive
 * ASCII classes, groups, alternation, `^`/`$` without `m`, no quantifiers at all), whose
 * backtracking work per start position is bounded by a small constant, run on the native
 * RegExp (in Unicode mode) instead: on that subset both engines give the same answers, and
 * the native engine is an order of magnitude faster (no UTF-8 copy of the text per test).
 */
import RE2 from "re2";

export type RegexTest = (text: string) => boolean;

/** A compiled pattern: a native RegExp or an RE2 object, both without the g and y flags. */
export interface CompiledRegex {
  test(text: string): boolean;
}

function toRe2Flags(flags: string): string {
  return flags.replace(/[^ims]/g, "");
}

/** Why a pattern cannot be used, or undefined when it compiles. */
export function regexProblem(pattern: string, flags: string): string | undefined {
  try {
    new RE2(pattern, toRe2Flags(flags));
    return undefined;
  } catch (err) {
    const msg = (err as Error).message;
    if (/invalid escape|backreference|\\\d/i.test(msg) || /\\[1-9]/.test(pattern)) return `${msg} (backreferences are not supported: patterns run in linear time)`;
    if (/\(\?[=!<]/.test(pattern)) return `${msg} (lookaround is not supported: patterns run in linear time)`;
    return msg;
  }
}

/** Upper bound on the steps a backtracking matcher may take from one start position. */
const MAX_NATIVE_STEPS = 1000;

/** Literal characters of the subset outside classes: printable ASCII but the metacharacters. */
const PLAIN = /[A-Za-z0-9 !"#%&',\-/:;<=>@_`~]/;
/** Characters escaped to themselves outside classes (valid identity escapes in Unicode mode). */
const ESCAPED = /[\\^$.|?*+()[\]{}/]/;
/** Literal characters inside classes (no `-`, `^`, `[`, `]`, `\`: those only as escapes or ranges). */
const CLASS_PLAIN = /[A-Za-z0-9 !"#%&',./:;<=>@_`~$*+?(){}|]/;
/** Characters escaped to themselves inside classes. */
const CLASS_ESCAPED = /[\\^$.|?*+()[\]{}/-]/;

interface Cost {
  /** Distinct ways through the node. */
  readonly paths: number;
  /** Steps to explore every way through it. */
  readonly steps: number;
}

/**
 * Whether a pattern is in the subset where the native engine agrees with RE2 and cannot
 * backtrack badly; a small recursive-descent recogniser, anything unexpected is refused.
 */
export function nativeSafe(pattern: string, flags: string): boolean {
  if (/[^ims]/.test(flags)) return false;
  const anchors = !flags.includes("m");
  let i = 0;
  const fail = (): never => {
    throw new Refused();
  };
  const one: Cost = { paths: 1, steps: 1 };
  const seq = (a: Cost, b: Cost): Cost => ({ paths: a.paths * b.paths, steps: a.steps + a.paths * b.steps });
  const check = (c: Cost): Cost => (c.steps > MAX_NATIVE_STEPS || c.paths > MAX_NATIVE_STEPS ? fail() : c);
  const classChar = (): number => {
    const c = pattern[i] as string;
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n === undefined) return fail();
      i += 2;
      if (CLASS_ESCAPED.test(n)) return n.charCodeAt(0);
      if (n === "n") return 10;
      if (n === "t") return 9;
      if (n === "r") return 13;
      if (n === "d" || n === "w") return -1; // a class escape: not a range end
      return fail();
    }
    if (!CLASS_PLAIN.test(c)) return fail();
    i++;
    return c.charCodeAt(0);
  };
  const charClass = (): Cost => {
    i++; // [
    let members = 0;
    while (i < pattern.length && pattern[i] !== "]") {
      const lo = classChar();
      if (pattern[i] === "-" && pattern[i + 1] !== "]") {
        i++;
        const hi = classChar();
        if (lo < 0 || hi < 0 || hi < lo) fail();
      }
      members++;
    }
    if (pattern[i] !== "]" || members === 0) fail();
    i++;
    return one;
  };
  const item = (): Cost => {
    const c = pattern[i] as string;
    if (c === "(") {
      i++;
      if (pattern[i] === "?") {
        if (pattern[i + 1] !== ":") fail();
        i += 2;
      }
      const inner = alternation();
      if (pattern[i] !== ")") fail();
      i++;
      return inner;
    }
    if (c === "[") return charClass();
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n === undefined || !(ESCAPED.test(n) || n === "d" || n === "w" || n === "n" || n === "t" || n === "r")) fail();
      i += 2;
      return one;
    }
    if (c === "^" || c === "$") {
      if (!anchors) fail();
      i++;
      return one;
    }
    if (!PLAIN.test(c)) fail();
    i++;
    return one;
  };
  const sequence = (): Cost => {
    let c: Cost = { paths: 1, steps: 0 };
    while (i < pattern.length && pattern[i] !== "|" && pattern[i] !== ")") c = check(seq(c, item()));
    return c;
  };
  const alternation = (): Cost => {
    let c = sequence();
    while (pattern[i] === "|") {
      i++;
      const b = sequence();
      c = check({ paths: c.paths + b.paths, steps: c.steps + b.steps });
    }
    return c;
  };
  try {
    alternation();
    return i === pattern.length;
  } catch (err) {
    if (err instanceof Refused) return false;
    throw err;
  }
}

class Refused extends Error {}

/** Compiles a pattern once; the test is linear in the text. */
export function compileRegexObject(pattern: string, flags: string): CompiledRegex {
  const f = toRe2Flags(flags);
  if (nativeSafe(pattern, f)) {
    try {
      return new RegExp(pattern, `${f}u`);
    } catch {
      // not valid in Unicode mode after all: RE2 below
    }
  }
  return new RE2(pattern, f);
}

/** Compiles a pattern once; the test is linear in the text. */
export function compileRegex(pattern: string, flags: string): RegexTest {
  const re = compileRegexObject(pattern, flags);
  return (text) => re.test(text);
}
