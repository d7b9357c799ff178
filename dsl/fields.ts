/**
 * Field paths, as the language resolves them: dotted form (`source.ip`), reading nested
 * objects and flat dotted keys alike, quoted segments for odd names (`labels."a.b"`).
 */

/** An ECS document: nested objects, flat dotted keys, or a mix of both. */
export type EventFields = Record<string, unknown>;

/**
 * Splits a dotted path, honouring quoted segments and backslash escapes inside them:
 * `a."b.c".d` → ["a", "b.c", "d"], `a."x\"y"` → ["a", 'x"y'].
 */
export function splitFieldPath(path: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    if (quoted && ch === "\\" && i + 1 < path.length) cur += path[++i];
    else if (ch === '"') quoted = !quoted;
    else if (ch === "." && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * A property of the event itself, never one inherited from Object.prototype (`constructor`,
 * `toString`, `__proto__` are not fields).
 */
function own(rec: Record<string, unknown>, key: string): unknown {
  const v = rec[key];
  if (v === undefined) return undefined;
  if (typeof v === "function" || (key === "__proto__" && !Object.hasOwn(rec, key))) return undefined;
  return v;
}

/** Reads a field: the flat dotted key first, then the nested path, then mixed forms. */
export function getField(fields: EventFields, path: string): unknown {
  return fieldReader(path)(fields);
}

/**
 * Walks nested objects where some levels may hold dotted keys (`{"source": {"geo.country": …}}`):
 * at each level the shortest dotted key first. `joined[from][i]` is segs[from..i] joined by dots,
 * built once per path.
 */
function getNested(obj: unknown, joined: readonly (readonly string[])[], from: number): unknown {
  const n = joined.length;
  if (from === n) return obj;
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  const row = joined[from] as readonly string[];
  for (let i = from; i < n; i++) {
    const v = own(rec, row[i - from] as string);
    if (v !== undefined) {
      const r = getNested(v, joined, i + 1);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

/** Builds a reader for one path, resolved once (used by compiled rules). */
export function fieldReader(path: string): (fields: EventFields) => unknown {
  const segs = splitFieldPath(path);
  const flatKey = segs.join(".");
  if (segs.length === 1) return (f) => own(f, flatKey);
  // Built on first use: most readers only ever see flat keys or plain nesting.
  let table: string[][] | undefined;
  const nested = (f: EventFields): unknown =>
    getNested(f, (table ??= segs.map((_, from) => segs.slice(from).map((__, k) => segs.slice(from, from + k + 1).join(".")))), 0);
  if (segs.length === 2) {
    const [a, b] = segs as [string, string];
    return (f) => {
      const flat = f[flatKey];
      if (flat !== undefined && typeof flat !== "function") return flat;
      const o = f[a];
      if (o === undefined) return undefined;
      if (o !== null && typeof o === "object" && !Array.isArray(o)) {
        const v = own(o as Record<string, unknown>, b);
        if (v !== undefined) return v;
      }
      return nested(f);
    };
  }
  return (f) => {
    const flat = f[flatKey];
    if (flat !== undefined && typeof flat !== "function") return flat;
    return nested(f);
  };
}
