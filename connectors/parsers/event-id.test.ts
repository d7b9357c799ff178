import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { fnv1a32, fnv1a32Hex, formatEventId, lineEventId, sourceBasename } from "./event-id.js";

/** Reference FNV-1a over the bytes Node's UTF-8 encoder produces. */
function referenceFnv(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, "utf8")) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnitString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });

describe("fnv1a32", () => {
  it("matches the published FNV-1a 32-bit test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("hashes UTF-8 bytes (2-, 3- and 4-byte sequences)", () => {
    for (const s of ["é", "€", "日本語", "😀", "ssh from 2001:db8::1 – ok ✓"]) expect(fnv1a32(s)).toBe(referenceFnv(s));
  });

  test.prop([fc.string({ unit: "binary" })])("equals FNV-1a of the UTF-8 encoding for any well-formed string", (s) => {
    expect(fnv1a32(s)).toBe(referenceFnv(s));
  });

  test.prop([codeUnitString])("lone surrogates hash as U+FFFD, like the UTF-8 encoder writes them", (s) => {
    expect(fnv1a32(s)).toBe(referenceFnv(s));
  });

  it("renders 8 lower-case hex digits, zero-padded", () => {
    expect(fnv1a32Hex("a")).toBe("e40c292c");
    for (let i = 0; i < 2000; i++) expect(fnv1a32Hex(String(i))).toMatch(/^[0-9a-f]{8}$/);
    // Some short input hashes below 0x10000000 and needs padding; check the padding path is hit.
    const padded = Array.from({ length: 2000 }, (_, i) => String(i)).find((s) => fnv1a32(s) < 0x10000000);
    expect(padded).toBeDefined();
    expect(fnv1a32Hex(padded as string)).toBe(fnv1a32(padded as string).toString(16).padStart(8, "0"));
  });
});

describe("event ids", () => {
  const line = "Dec 10 06:55:48 gw1 sshd[24200]: Failed password for invalid user webmaster from 203.0.113.7 port 38926 ssh2";

  it("is basename:line-hash for the first event of a line and basename:line.k-hash after", () => {
    const h = fnv1a32Hex(line);
    expect(lineEventId("/var/log/auth.log", 6, line)).toBe(`auth.log:6-${h}`);
    expect(lineEventId("/var/log/auth.log", 31, line, 3)).toBe(`auth.log:31.3-${h}`);
    expect(formatEventId("OpenSSH_2k.log", 31, 1, h)).toBe(`OpenSSH_2k.log:31-${h}`);
    expect(formatEventId("OpenSSH_2k.log", 31, 2, h)).toBe(`OpenSSH_2k.log:31.2-${h}`);
  });

  it("is deterministic and tells the same line number of different files/contents apart", () => {
    expect(lineEventId("auth.log", 12, line)).toBe(lineEventId("/other/dir/auth.log", 12, line));
    expect(lineEventId("auth.log", 12, line)).not.toBe(lineEventId("auth.log", 12, `${line} `));
    expect(lineEventId("auth.log", 12, line)).not.toBe(lineEventId("auth.log.1", 12, line));
  });

  it("takes the basename of POSIX and Windows paths", () => {
    expect(sourceBasename("/var/log/auth.log")).toBe("auth.log");
    expect(sourceBasename("C:\\logs\\secure")).toBe("secure");
    expect(sourceBasename("auth.log")).toBe("auth.log");
    expect(sourceBasename("/var/log/")).toBe("log");
    expect(sourceBasename("")).toBe("");
  });
});
