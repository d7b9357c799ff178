/** Turning database values into the contract's types (the same on `pg` and on PGlite). */

export function iso(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return new Date(String(v)).toISOString();
}

export function isoOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : iso(v);
}

export function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

export function strOrNull(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function obj(v: unknown): Record<string, unknown> {
  if (typeof v === "string") return JSON.parse(v) as Record<string, unknown>;
  return (v ?? {}) as Record<string, unknown>;
}

export function arr<T>(v: unknown): T[] {
  if (typeof v === "string") return JSON.parse(v) as T[];
  return (v ?? []) as T[];
}
