import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted at every level and `undefined` members dropped (as
 * JSON.stringify drops them): the same value always gives the same text.
 */
export function canonicalJson(value: unknown): string {
  return write(JSON.parse(JSON.stringify(value ?? null)) as unknown);
}

function write(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(write).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${write(o[k])}`).join(",")}}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A short deterministic id: `n` hex digits of SHA-256 over the parts, NUL-separated. */
export function hashId(parts: readonly string[], n = 32): string {
  const h = createHash("sha256");
  parts.forEach((p, i) => {
    if (i > 0) h.update("\0");
    h.update(p);
  });
  return h.digest("hex").slice(0, n);
}
