/**
 * IP addresses and CIDR sets for `cidr` and `in list` on addresses. An address is held as
 * 16 bytes (IPv4 mapped into ::ffff:0:0/96), so one trie serves both families; a lookup
 * walks at most the prefix length of the longest matching entry (O(prefix)).
 */

const V4_MAPPED_PREFIX = 96;

/** Parses an IPv4 or IPv6 literal into 16 bytes, or undefined. Zone ids (`%eth0`) are ignored. */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  if (text.includes(":")) return parseIpv6(text);
  const v4 = parseIpv4(text);
  if (v4 === undefined) return undefined;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out[12] = v4 >>> 24;
  out[13] = (v4 >>> 16) & 0xff;
  out[14] = (v4 >>> 8) & 0xff;
  out[15] = v4 & 0xff;
  return out;
}

/** Parses dotted-quad IPv4 to an unsigned 32-bit number. */
export function parseIpv4(text: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return undefined;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // no leading zeros: ambiguous (octal)
      part = part * 10 + (c - 48);
      if (++digits > 3) return undefined;
    } else return undefined;
  }
  return parts === 4 ? value >>> 0 : undefined;
}

/**
 * IPv6 text (RFC 4291 forms: groups of 1–4 hex digits, at most one `::`, an IPv4 tail), in one
 * pass without intermediate strings; brackets around it and a zone id after `%` are ignored.
 */
function parseIpv6(input: string): Uint8Array | undefined {
  const pct = input.indexOf("%");
  let end = pct === -1 ? input.length : pct;
  let i = 0;
  if (end >= 2 && input.charCodeAt(0) === 91 && input.charCodeAt(end - 1) === 93) {
    i = 1;
    end--;
  }
  const words = WORDS;
  let n = 0;
  /** Where `::` stands, as a count of the words before it (-1: none). */
  let gap = -1;
  while (i < end) {
    if (input.charCodeAt(i) === 58 && input.charCodeAt(i + 1) === 58 && i + 1 < end) {
      if (gap !== -1) return undefined;
      gap = n;
      i += 2;
      continue;
    }
    const groupStart = i;
    let value = 0;
    for (; i < end; i++) {
      const d = hexValue(input.charCodeAt(i));
      if (d < 0) break;
      value = value * 16 + d;
    }
    const digits = i - groupStart;
    if (i < end && input.charCodeAt(i) === 46) {
      // An IPv4 tail: the rest of the text is a dotted quad, and it ends the address.
      const v4 = parseIpv4(input.slice(groupStart, end));
      if (v4 === undefined || n > 6) return undefined;
      words[n++] = v4 >>> 16;
      words[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4 || n === 8) return undefined;
    words[n++] = value;
    if (i === end) break;
    if (input.charCodeAt(i) !== 58) return undefined;
    // One colon between groups; a second one is a `::`, read at the top of the loop.
    if (input.charCodeAt(i + 1) !== 58 || i + 1 >= end) {
      i++;
      if (i === end) return undefined; // a trailing single colon
    }
  }
  if (gap === -1 ? n !== 8 : n > 7) return undefined;
  const out = new Uint8Array(16);
  const tail = gap === -1 ? 0 : n - gap;
  const head = n - tail;
  for (let w = 0; w < head; w++) {
    out[w * 2] = (words[w] as number) >> 8;
    out[w * 2 + 1] = (words[w] as number) & 0xff;
  }
  for (let w = 0; w < tail; w++) {
    const at = 8 - tail + w;
    const v = words[head + w] as number;
    out[at * 2] = v >> 8;
    out[at * 2 + 1] = v & 0xff;
  }
  return out;
}

/** Scratch for the 16-bit groups of the address being parsed. */
const WORDS = new Uint16Array(8);

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export interface Cidr {
  readonly bytes: Uint8Array;
  /** Prefix length over the 16-byte form (an IPv4 /8 is 104 here). */
  readonly bits: number;
}

/** Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a host route). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const addr = slash === -1 ? text : text.slice(0, slash);
  const bytes = parseIp(addr);
  if (bytes === undefined) return undefined;
  const isV4 = !addr.includes(":");
  const max = isV4 ? 32 : 128;
  let len = max;
  if (slash !== -1) {
    const l = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l)) return undefined;
    len = Number(l);
    if (len > max) return undefined;
  }
  return { bytes, bits: isV4 ? len + V4_MAPPED_PREFIX : len };
}

function bitAt(bytes: Uint8Array, i: number): number {
  return ((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1;
}

/** A binary trie of prefixes over 16-byte addresses. */
export class CidrSet {
  /** Child indices: node n has children at [2n] and [2n+1]; 0 means none. */
  private children: Int32Array = new Int32Array(64);
  private terminal: Uint8Array = new Uint8Array(32);
  private nodes = 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(cidr: Cidr): void {
    let node = 0;
    for (let i = 0; i < cidr.bits; i++) {
      if (this.terminal[node] === 1) return; // a shorter prefix already covers it
      const slot = node * 2 + bitAt(cidr.bytes, i);
      let next = this.children[slot] as number;
      if (next === 0) {
        next = this.allocate();
        this.children[slot] = next;
      }
      node = next;
    }
    this.terminal[node] = 1;
    this.count++;
  }

  private allocate(): number {
    const id = this.nodes++;
    if (id >= this.terminal.length) {
      const t = new Uint8Array(this.terminal.length * 2);
      t.set(this.terminal);
      this.terminal = t;
      const c = new Int32Array(this.children.length * 2);
      c.set(this.children);
      this.children = c;
    }
    return id;
  }

  /** Whether an address (16-byte form) falls in any prefix of the set. */
  hasBytes(addr: Uint8Array): boolean {
    let node = 0;
    for (let i = 0; i < 128; i++) {
      if (this.terminal[node] === 1) return true;
      const next = this.children[node * 2 + bitAt(addr, i)] as number;
      if (next === 0) return false;
      node = next;
    }
    return this.terminal[node] === 1;
  }

  /** Whether an address given as text falls in the set; false for anything not an address. */
  has(text: string): boolean {
    const bytes = parseIp(text);
    return bytes !== undefined && this.hasBytes(bytes);
  }
}

/** Matching one prefix without a trie: a byte compare and a mask. */
export function cidrContains(cidr: Cidr, addr: Uint8Array): boolean {
  const full = cidr.bits >> 3;
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== addr[i]) return false;
  const rem = cidr.bits & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (((cidr.bytes[full] as number) ^ (addr[full] as number)) & mask) === 0;
}
