/**
 * Deterministic event ids for events read from a log file:
 * `${basename(source)}:${lineNo}[.${k}]-${fnv1a32 hex of the line}`.
 *
 * The line number orders and locates the event; the hash of the line's text keeps a rotated
 * file's line 12 from colliding with yesterday's line 12. `.k` (k ≥ 2) numbers the extra
 * events of one line (`message repeated N times`).
 */

// `| 0` keeps the running hash an int32 (0x811c9dc5 as a literal is a double and makes V8
// carry the loop in float64, about twice as slow).
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
/** Char codes of "0"–"9", "a"–"f". */
const HEX_CODE: readonly number[] = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

/**
 * 32-bit FNV-1a over the UTF-8 bytes of `s` (lone surrogates hash as U+FFFD, as TextEncoder
 * would encode them), so the value matches any other implementation hashing the file's bytes.
 */
export function fnv1a32(s: string): number {
  let h = FNV_OFFSET;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
        continue;
      }
      c = 0xfffd;
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
  }
  return h >>> 0;
}

/** {@link fnv1a32} as 8 lower-case hex digits. */
export function fnv1a32Hex(s: string): string {
  return hashHex(fnv1a32(s));
}

/** A 32-bit hash (an unsigned integer) as 8 lower-case hex digits. */
export function hashHex(h: number): string {
  const x = HEX_CODE as number[];
  // One flat 8-character string, no intermediate strings.
  return String.fromCharCode(
    x[h >>> 28] as number,
    x[(h >>> 24) & 15] as number,
    x[(h >>> 20) & 15] as number,
    x[(h >>> 16) & 15] as number,
    x[(h >>> 12) & 15] as number,
    x[(h >>> 8) & 15] as number,
    x[(h >>> 4) & 15] as number,
    x[h & 15] as number,
  );
}

/** The file name of a source path (`/var/log/auth.log` → `auth.log`); POSIX and Windows separators. */
export function sourceBasename(source: string): string {
  let end = source.length;
  while (end > 1 && (source[end - 1] === "/" || source[end - 1] === "\\")) end--;
  const cut = Math.max(source.lastIndexOf("/", end - 1), source.lastIndexOf("\\", end - 1));
  return source.slice(cut + 1, end);
}

/**
 * The id of the `k`-th event (1-based) of line `lineNo`, given the source's basename and the
 * line's hash from {@link fnv1a32Hex}. Split this way so a decoder hashes each line once.
 */
export function formatEventId(base: string, lineNo: number, k: number, lineHash: string): string {
  const id = k >= 2 ? `${base}:${lineNo}.${k}-${lineHash}` : `${base}:${lineNo}-${lineHash}`;
  // Concatenation makes a tree of four strings; reading a character flattens it into one,
  // and the garbage collector then keeps only that (ids live on in correlation windows).
  id.charCodeAt(0);
  return id;
}

/** The id of the `k`-th event (1-based, default 1) of `line`, line `lineNo` of `source`. */
export function lineEventId(source: string, lineNo: number, line: string, k = 1): string {
  return formatEventId(sourceBasename(source), lineNo, k, fnv1a32Hex(line));
}
