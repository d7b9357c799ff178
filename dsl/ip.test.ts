import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { CidrSet, parseCidr, parseIp, parseIpv4 } from "./ip.js";

describe("ip", () => {
  test("parses IPv4 and rejects malformed or ambiguous forms", () => {
    expect(parseIpv4("192.0.2.1")).toBe(0xc0000201);
    for (const bad of ["192.0.2", "192.0.2.256", "01.2.3.4", "1.2.3.4.5", "a.b.c.d", "", "1..2.3"]) expect(parseIpv4(bad), bad).toBeUndefined();
  });

  test("parses IPv6 forms", () => {
    const hex = (s: string) => Buffer.from(parseIp(s) ?? []).toString("hex");
    expect(hex("2001:db8::1")).toBe("20010db8000000000000000000000001");
    expect(hex("::1")).toBe("00000000000000000000000000000001");
    expect(hex("::ffff:192.0.2.1")).toBe("00000000000000000000ffffc0000201");
    expect(hex("192.0.2.1")).toBe("00000000000000000000ffffc0000201");
    expect(hex("fe80::1%eth0")).toBe("fe800000000000000000000000000001");
    for (const bad of ["2001:db8::1::2", "12345::", "1:2:3:4:5:6:7:8:9", "g::1"]) expect(parseIp(bad), bad).toBeUndefined();
  });

  test("property: IPv6 parsing agrees with a reference parser (split and regex) on valid, mangled and random text", () => {
    const hex = (b: Uint8Array | undefined) => (b === undefined ? "none" : Buffer.from(b).toString("hex"));
    const mangled = fc.tuple(fc.ipV6(), fc.nat(), fc.constantFrom("", ":", "::", ".", "0", "fffff", "%", "[", "]", "1.2.3.4", "g")).map(([a, at, ins]) => {
      const k = at % (a.length + 1);
      return a.slice(0, k) + ins + a.slice(k + (at % 3 === 0 ? 1 : 0));
    });
    const random = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.%[]g"), maxLength: 45 });
    const text = fc.oneof(fc.ipV6(), fc.ipV6().map((a) => `[${a}]`), fc.ipV6().map((a) => `${a}%eth0`), mangled, random);
    fc.assert(
      fc.property(text, (t) => {
        expect(hex(parseIp(t))).toBe(hex(t.length === 0 || t.length > 64 ? undefined : t.includes(":") ? referenceIpv6(t) : parseIp(t)));
      }),
      { numRuns: 20_000 },
    );
  });

  test("CidrSet agrees with a bitwise reference on random IPv4 prefixes", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })), { maxLength: 20 }), fc.integer({ min: 0, max: 0xffffffff }), (prefixes, addr) => {
        const set = new CidrSet();
        const text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
        for (const [a, len] of prefixes) set.add(parseCidr(`${text(a)}/${len}`) ?? { bytes: new Uint8Array(16), bits: 0 });
        const expected = prefixes.some(([a, len]) => len === 0 || (a >>> (32 - len)) === (addr >>> (32 - len)));
        expect(set.has(text(addr))).toBe(expected);
      }),
    );
  });

  test("an IPv4 prefix never matches an unrelated IPv6 address", () => {
    const s = new CidrSet();
    s.add(parseCidr("0.0.0.0/0") ?? { bytes: new Uint8Array(16), bits: 0 });
    expect(s.has("10.0.0.1")).toBe(true);
    expect(s.has("2001:db8::1")).toBe(false);
  });
});

/** The reference: IPv6 text split into groups at `::` and `:`, each checked with a regex. */
function referenceIpv6(input: string): Uint8Array | undefined {
  const pct = input.indexOf("%");
  let text = pct === -1 ? input : input.slice(0, pct);
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const dbl = text.indexOf("::");
  if (dbl !== -1 && text.indexOf("::", dbl + 1) !== -1) return undefined;
  const head = dbl === -1 ? text : text.slice(0, dbl);
  const tail = dbl === -1 ? "" : text.slice(dbl + 2);
  const words = (groups: string[], lastMayBeV4: boolean): number[] | undefined => {
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] as string;
      if (lastMayBeV4 && i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIpv4(g);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const h = words(head === "" ? [] : head.split(":"), tail === "" && dbl === -1);
  const t = words(tail === "" ? [] : tail.split(":"), true);
  if (h === undefined || t === undefined) return undefined;
  if (dbl === -1 ? h.length + t.length !== 8 : h.length + t.length > 7) return undefined;
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return Uint8Array.from(all.flatMap((w) => [w >> 8, w & 0xff]));
}
