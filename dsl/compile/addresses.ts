/**
 * Address tests for `cidr` and for lists holding addresses or CIDR blocks, with a fast path
 * for dotted-quad IPv4 text: no 16-byte array, no trie walk. Same answers as parsing the
 * text with `parseIp` and testing each block with `cidrContains` (IPv4 maps into
 * ::ffff:0:0/96, so a block may hold all of IPv4, part of it, or none of it).
 */
import { CidrSet, cidrContains, parseIp, parseIpv4, type Cidr } from "../ip.js";

/** `::ffff:0.0.0.0`: the first 96 bits of every IPv4 address in the 16-byte form. */
const V4_MAPPED = (() => {
  const b = new Uint8Array(16);
  b[10] = 0xff;
  b[11] = 0xff;
  return b;
})();

export type AddressTest = (text: string) => boolean;

/** Above this many blocks, a trie instead of a scan. */
const SCAN_MAX = 8;

/** Whether text is an address inside any of the blocks (false for anything not an address). */
export function addressTest(cidrs: readonly Cidr[]): AddressTest {
  if (cidrs.length > SCAN_MAX) {
    const set = new CidrSet();
    for (const c of cidrs) set.add(c);
    // One scratch address, reused: IPv4 tests allocate nothing.
    const scratch = V4_MAPPED.slice();
    return (text) => {
      const v4 = parseIpv4(text);
      if (v4 === undefined) return text.includes(":") && set.has(text);
      scratch[12] = v4 >>> 24;
      scratch[13] = (v4 >>> 16) & 0xff;
      scratch[14] = (v4 >>> 8) & 0xff;
      scratch[15] = v4 & 0xff;
      return set.hasBytes(scratch);
    };
  }
  let allV4 = false;
  const shifts: number[] = [];
  const nets: number[] = [];
  for (const c of cidrs) {
    // Does the block agree with the IPv4 prefix on its first min(bits, 96) bits?
    const head: Cidr = { bytes: c.bytes, bits: Math.min(c.bits, 96) };
    if (!cidrContains(head, V4_MAPPED)) continue;
    if (c.bits <= 96) {
      allV4 = true;
      continue;
    }
    const shift = 32 - (c.bits - 96); // 0..31
    const net = (((c.bytes[12] as number) << 24) | ((c.bytes[13] as number) << 16) | ((c.bytes[14] as number) << 8) | (c.bytes[15] as number)) >>> 0;
    shifts.push(shift);
    nets.push(net >>> shift);
  }
  const v6 = (text: string): boolean => {
    if (!text.includes(":")) return false; // not IPv4 (parsed above) and not IPv6
    const bytes = parseIp(text);
    if (bytes === undefined) return false;
    for (const c of cidrs) if (cidrContains(c, bytes)) return true;
    return false;
  };
  const n = shifts.length;
  return (text) => {
    const v4 = parseIpv4(text);
    if (v4 === undefined) return v6(text);
    if (allV4) return true;
    for (let i = 0; i < n; i++) {
      const s = shifts[i] as number;
      if (v4 >>> s === nets[i]) return true;
    }
    return false;
  };
}
