import { Readable } from "node:stream";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { fnv1a32 } from "../parsers/event-id.js";
import { forEachLine } from "./lines.js";

interface Line {
  readonly line: string;
  readonly no: number;
  readonly hash: number;
}

async function read(chunks: readonly Uint8Array[], maxLineBytes?: number): Promise<{ lines: Line[]; count: number }> {
  const lines: Line[] = [];
  const stream = Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false });
  const count = await forEachLine(stream, (line, no, hash) => lines.push({ line, no, hash }), { maxLineBytes });
  return { lines, count };
}

/** The reference: decode everything, split on "\n", drop one trailing "\r" per line, no empty last line. */
function model(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes).toString("utf8");
  const parts = text.split("\n");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts.map((p) => (p.endsWith("\r") ? p.slice(0, -1) : p));
}

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
function cut(bytes: Uint8Array, at: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const a of [...new Set(at.map((x) => x % (bytes.length + 1)))].sort((x, y) => x - y)) {
    out.push(bytes.subarray(prev, a));
    prev = a;
  }
  out.push(bytes.subarray(prev));
  return out.filter((c) => c.length > 0);
}

const enc = (s: string) => new TextEncoder().encode(s);

describe("forEachLine", () => {
  it("numbers lines, strips CR, keeps a last line without a newline", async () => {
    const { lines, count } = await read([enc("a\r\nb\n\nc\r"), enc("\r\nlast")]);
    expect(lines.map((l) => [l.line, l.no])).toEqual([["a", 1], ["b", 2], ["", 3], ["c\r", 4], ["last", 5]]);
    expect(count).toBe(5);
  });

  it("hashes ASCII lines from their bytes, as event ids hash the text", async () => {
    const { lines } = await read([enc("Mar  1 10:00:00 h sshd[1]: x\r\nMar  1 10:00:0"), enc("1 h sshd[1]: y\n")]);
    for (const l of lines) expect(l.hash).toBe(fnv1a32(l.line));
  });

  it("decodes UTF-8 split across chunks and does not claim a hash for non-ASCII lines", async () => {
    const bytes = enc("r\u00e9my \u{1F600}\nok\n");
    const { lines } = await read([bytes.subarray(0, 3), bytes.subarray(3, 8), bytes.subarray(8)]);
    expect(lines.map((l) => l.line)).toEqual(["r\u00e9my \u{1F600}", "ok"]);
    expect(lines[0]?.hash).toBe(-1);
    expect(lines[1]?.hash).toBe(fnv1a32("ok"));
  });

  it("cuts a line longer than maxLineBytes to one byte more, and goes on after it", async () => {
    const long = "x".repeat(100);
    const { lines } = await read([enc(long.slice(0, 30)), enc(long.slice(30, 70)), enc(`${long.slice(70)}\nnext\n`)], 10);
    expect(lines.map((l) => l.line)).toEqual(["x".repeat(11), "next"]);
  });

  it("reads a large chunk (decoded in blocks) like the whole text split on newlines", async () => {
    // ~200 KiB in one chunk: many text blocks, a line longer than a block, ASCII and UTF-8 blocks.
    const parts: string[] = [];
    for (let i = 0; i < 3000; i++) parts.push(i % 997 === 0 ? `long ${"y".repeat(40_000)}` : i % 1499 === 1 ? `caf\u00e9 ${i}\r` : `line ${i} ${"x".repeat(i % 90)}`);
    const bytes = enc(parts.join("\n") + "\n");
    const { lines, count } = await read([bytes]);
    expect(lines.map((l) => l.line)).toEqual(model(bytes));
    expect(count).toBe(3000);
    for (const l of lines) if (l.hash !== -1) expect(l.hash).toBe(fnv1a32(l.line));
    expect(lines.filter((l) => l.hash !== -1).length).toBeGreaterThan(2000);
  });

  test.prop([
    fc.array(fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom("\n", "\r\n", "\r", "\u00e9", "\uFEFF", "abc def")), { maxLength: 30 }),
    fc.array(fc.nat(), { maxLength: 8 }),
    fc.uint8Array({ maxLength: 6 }),
  ])("splits any bytes in any chunking like the whole text split on newlines", async (parts, cuts, junk) => {
    const text = enc(parts.join(""));
    const bytes = new Uint8Array([...text, ...junk]); // maybe invalid UTF-8 at the end
    const { lines, count } = await read(cut(bytes, cuts));
    expect(lines.map((l) => l.line)).toEqual(model(bytes));
    expect(count).toBe(lines.length);
    lines.forEach((l, i) => {
      expect(l.no).toBe(i + 1);
      if (l.hash !== -1) expect(l.hash).toBe(fnv1a32(l.line));
    });
  });
});
