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
