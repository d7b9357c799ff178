/**
 * Runtime semantics of values, shared by the compiled closures and the reference
 * interpreter. A missing field (undefined) or an explicit null never satisfies a
 * comparison; an array satisfies a comparison when any element does.
 */

/** A number read from a number or a numeric string; NaN otherwise. */
export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && DECIMAL.test(v)) return Number(v);
  return NaN;
}

/**
 * A numeric string: decimal, optionally signed, with a fraction and an exponent, spaces around
 * (`"42"`, `" 2.5 "`, `"1e3"`, `"-7"`). Not JavaScript's other spellings (`"0x10"`, `"0b1"`,
 * `"Infinity"`): a port written `"0x10"` is text, not 16.
 */
const DECIMAL = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** Scalar equality with the language's coercions: numbers and numeric strings compare as numbers. */
export function scalarEquals(a: unknown, b: unknown, ci: boolean): boolean {
  if (a === undefined || a === null || b === undefined) return false;
  if (b === null) return false;
  if (typeof a === "string" && typeof b === "string") return ci ? a.toLowerCase() === b.toLowerCase() : a === b;
  if (typeof a === typeof b) return a === b;
  if (typeof a === "number" || typeof b === "number") {
    const x = toNumber(a);
    const y = toNumber(b);
    return !Number.isNaN(x) && x === y && typeof a !== "boolean" && typeof b !== "boolean";
  }
  return false;
}

/** Ordering: numbers (numeric strings coerced when the other side is a number), or text with text. */
export function scalarOrder(a: unknown, b: unknown, op: "<" | "<=" | ">" | ">="): boolean {
  let c: number;
  if (typeof a === "string" && typeof b === "string") c = a < b ? -1 : a > b ? 1 : 0;
  else {
    if (typeof a !== "number" && typeof b !== "number") return false;
    if (typeof a === "boolean" || typeof b === "boolean") return false;
    const x = toNumber(a);
    const y = toNumber(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return false;
    c = x - y;
  }
  switch (op) {
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    default:
      return c >= 0;
  }
}

/** Applies a scalar test to a value that may be an array (any element). */
export function anyOf(v: unknown, test: (x: unknown) => boolean): boolean {
  if (Array.isArray(v)) {
    for (const x of v) if (test(x)) return true;
    return false;
  }
  return test(v);
}

/** Whether a value counts as present: not undefined, not null, not an empty array. */
export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
}

/** A value as a key component: text as is, other scalars in their text form, objects as JSON. */
export function keyText(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return JSON.stringify(v) ?? "";
}
