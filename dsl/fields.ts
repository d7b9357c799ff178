/**
 * Field paths, as the language resolves them: dotted form (`source.ip`), reading nested
 * objects and flat dotted keys alike, quoted segments for odd names (`labels."a.b"`).
 */

/** An ECS document: nested objects, flat dotted keys, or a mix of both. */
export type EventFields = Record<string, unknown>;

/** Splits a dotted path, honouring quoted segments: `a."b.c".d` → ["a", "b.c", "d"]. */
export function splitFieldPath(path: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === "." && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Reads a field: the flat dotted key first, then the nested path, then mixed forms. */
export function getField(fields: EventFields, path: string): unknown {
  const flat = fields[path];
  if (flat !== undefined) return flat;
  return getNested(fields, splitFieldPath(path), 0);
}

function getNested(obj: unknown, segs: readonly string[], from: number): unknown {
  if (from === segs.length) return obj;
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  // Try the longest dotted prefix first so `{"source": {"geo.country": …}}` resolves too.
  let key = "";
  for (let i = from; i < segs.length; i++) {
    key = i === from ? (segs[i] as string) : `${key}.${segs[i] as string}`;
    const v = rec[key];
    if (v !== undefined) {
      const r = getNested(v, segs, i + 1);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

/** Builds a reader for one path, resolved once (used by compiled rules). */
export function fieldReader(path: string): (fields: EventFields) => unknown {
  const segs = splitFieldPath(path);
  if (segs.length === 1) {
    const k = segs[0] as string;
    return (f) => f[k];
  }
  if (segs.length === 2) {
    const [a, b] = segs as [string, string];
    return (f) => {
      const flat = f[path];
      if (flat !== undefined) return flat;
      const o = f[a];
      if (o !== null && typeof o === "object" && !Array.isArray(o)) {
        const v = (o as Record<string, unknown>)[b];
        if (v !== undefined) return v;
      }
      return getNested(f, segs, 0);
    };
  }
  return (f) => {
    const flat = f[path];
    return flat !== undefined ? flat : getNested(f, segs, 0);
  };
}

