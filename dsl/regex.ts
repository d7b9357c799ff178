/**
 * Regular expressions for `matches`. They run on attacker-controlled text, so they run on
 * RE2 (the `re2` package): linear time in the input, no catastrophic backtracking. RE2 has
 * no backreferences and no lookaround; such patterns are refused at check time.
 */
import RE2 from "re2";

export type RegexTest = (text: string) => boolean;

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

/** Compiles a pattern once; the test is linear in the text. */
export function compileRegex(pattern: string, flags: string): RegexTest {
  const re = new RE2(pattern, toRe2Flags(flags));
  return (text) => re.test(text);
}
