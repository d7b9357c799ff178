import { Buffer, isAscii } from "node:buffer";
import type { Readable } from "node:stream";

/**
 * Called once per line, synchronously. `lineHash` is the 32-bit FNV-1a of the line's UTF-8
 * bytes (see connectors/parsers/event-id.ts) when the reader computed it on the way — for
 * ASCII text — and -1 when it did not.
 */
export type OnLine = (line: string, lineNo: number, lineHash: number) => void;

export interface LineReadOptions {
  /**
   * Longest line kept in full, in bytes: past it a line is cut to this many bytes plus one (so
   * that it still reads as too long) and memory stays bounded on a file without newlines.
   * Default: unbounded.
   */
  readonly maxLineBytes?: number;
  /** Awaited after each chunk's lines: back-pressure for a reader that hands events on in batches. */
  readonly afterChunk?: () => Promise<void>;
  /**
   * Hash ASCII lines from their bytes on the way (default true). False for a caller that
   * needs the hash of few lines: each gets -1, and the decoder hashes the text when it must.
   */
  readonly hashLines?: boolean;
}

/**
 * Lines are decoded to text a block of about this many bytes at a time. A line's string is a
 * view on its block's text, and so is any field cut from it (V8 slices of 13 characters or
 * more): an event that a correlation keeps (a sequence's partial match) keeps its block alive,
 * so blocks are kept small rather than one per 512 KiB read.
 */
const TEXT_BLOCK = 16_384;

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** FNV-1a over `buf[from, to)` (the bytes themselves: equal to event-id.ts's fnv1a32 for ASCII). */
function fnvBytes(buf: Uint8Array, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ (buf[i] as number), FNV_PRIME);
  return h >>> 0;
}

/**
 * Splits a byte stream into lines and hands each to `onLine` synchronously, chunk by chunk
 * (no promise per line). Lines are numbered from 1; `\r\n` and a last line without a
 * terminator are handled; text is UTF-8 (invalid bytes read as U+FFFD). Returns the number of
 * lines read.
 *
 * A chunk's complete lines are decoded in blocks of about {@link TEXT_BLOCK} bytes, each as
 * one string sliced per line (no copy per line); an all-ASCII block is decoded as Latin-1 (a
 * plain copy) and its lines are hashed from the bytes, which is several times cheaper than
 * hashing the string later.
 */
export async function forEachLine(stream: Readable, onLine: OnLine, opts: LineReadOptions = {}): Promise<number> {
  const maxLine = opts.maxLineBytes ?? Number.POSITIVE_INFINITY;
  const hashLines = opts.hashLines ?? true;
  /** Bytes of an unfinished line carried over from earlier chunks. */
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let lineNo = 0;

  /** A complete line from `bytes` (its `\n` excluded); slow path for lines spanning chunks. */
  const single = (bytes: Buffer): void => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 13) end--;
    if (isAscii(bytes.subarray(0, end))) onLine(bytes.toString("latin1", 0, end), ++lineNo, hashLines ? fnvBytes(bytes, 0, end) : -1);
    else onLine(bytes.toString("utf8", 0, end), ++lineNo, -1);
  };

  const addCarry = (b: Buffer): void => {
    if (carryBytes > maxLine) return;
    const room = maxLine + 1 - carryBytes;
    const part = b.length > room ? b.subarray(0, room) : b;
    carry.push(Buffer.from(part)); // a copy: the stream may reuse its chunk's memory
    carryBytes += part.length;
  };

  /** The complete lines of `chunk[from, to]` (`to` is a `\n`), as one string sliced per line. */
  const block = (chunk: Buffer, from: number, to: number): void => {
    const ascii = isAscii(chunk.subarray(from, to));
    const hash = ascii && hashLines;
    // Whole lines end at a `\n`, which never splits a UTF-8 sequence.
    const text = chunk.toString(ascii ? "latin1" : "utf8", from, to + 1);
    let s = 0;
    let nl = text.indexOf("\n");
    while (nl !== -1) {
      let e = nl;
      if (e > s && text.charCodeAt(e - 1) === 13) e--;
      onLine(text.slice(s, e), ++lineNo, hash ? fnvBytes(chunk, from + s, from + e) : -1);
      s = nl + 1;
      nl = text.indexOf("\n", s);
    }
  };

  for await (const raw of stream as AsyncIterable<Buffer | string>) {
    const chunk = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
    let start = 0;
    const end = chunk.length;
    if (carryBytes > 0) {
      const nl = chunk.indexOf(10);
      if (nl === -1) {
        addCarry(chunk);
        continue; // no complete line: nothing to hand on
      }
      addCarry(chunk.subarray(0, nl));
      const joined = carry.length === 1 ? (carry[0] as Buffer) : Buffer.concat(carry);
      carry = [];
      carryBytes = 0;
      single(joined);
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last < start) {
      if (start < end) addCarry(chunk.subarray(start));
      if (opts.afterChunk !== undefined) await opts.afterChunk(); // the carried line was completed
      continue;
    }
    // Complete lines: chunk[start, last], decoded a block at a time (see TEXT_BLOCK).
    let b = start;
    while (b <= last) {
      let e = b + TEXT_BLOCK >= last ? last : chunk.lastIndexOf(10, b + TEXT_BLOCK);
      if (e < b) e = chunk.indexOf(10, b + TEXT_BLOCK); // one line longer than a block
      block(chunk, b, e);
      b = e + 1;
    }
    if (last + 1 < end) addCarry(chunk.subarray(last + 1));
    if (opts.afterChunk !== undefined) await opts.afterChunk();
  }
  if (carryBytes > 0) single(carry.length === 1 ? (carry[0] as Buffer) : Buffer.concat(carry));
  if (opts.afterChunk !== undefined) await opts.afterChunk();
  return lineNo;
}
