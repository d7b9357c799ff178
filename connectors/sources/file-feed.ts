import { createReadStream } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { type EngineEvent, getField, parseEventTime } from "../../engine/index.js";
import type { DeadLetter } from "../../engine/pipeline.js";
import { createDecoder, type LineDecoder } from "../parsers/index.js";
import type { LineFailure, LogReadOptions, LogReadStats } from "./log-file.js";

export interface FeedTarget {
  /** Takes one chunk's events and undecodable lines; resolves when there is room for more. */
  publish(events: readonly EngineEvent[], dead: readonly DeadLetter[]): Promise<void>;
}

export interface FollowOptions {
  /** How often a followed file is checked for growth, rotation or truncation (ms). */
  readonly pollMs: number;
}

const encoder = new TextEncoder();

/**
 * Turns lines into events chunk by chunk, numbering lines from 1 and `seq` from `firstSeq`
 * (continuing across files, as `vigil replay` numbers them, so both give the same ids and
 * order). Undecodable lines become dead letters with their reason.
 */
class ChunkDecoder {
  private carry = "";
  lineNo = 0;
  seq: number;
  private readonly decoder: LineDecoder;

  constructor(
    private readonly source: string,
    opts: LogReadOptions,
    firstSeq: number,
    private readonly stats: LogReadStats,
    private readonly onFailure: ((f: LineFailure) => void) | undefined,
  ) {
    this.seq = firstSeq;
    this.decoder = createDecoder(opts.format, { source, year: opts.year, tz: opts.tz });
  }

  /** Decodes the complete lines of `text` (keeping a partial last line for the next chunk). */
  push(text: string, events: EngineEvent[], dead: DeadLetter[]): void {
    let start = 0;
    let nl = text.indexOf("\n");
    if (nl === -1) {
      this.carry += text;
      return;
    }
    if (this.carry !== "") {
      this.line(this.carry + text.slice(0, nl), events, dead);
      this.carry = "";
      start = nl + 1;
      nl = text.indexOf("\n", start);
    }
    while (nl !== -1) {
      this.line(text.slice(start, nl), events, dead);
      start = nl + 1;
      nl = text.indexOf("\n", start);
    }
    this.carry = text.slice(start);
  }

  /** The last line, unterminated, at the end of a file that is not followed. */
  flush(events: EngineEvent[], dead: DeadLetter[]): void {
    if (this.carry !== "") this.line(this.carry, events, dead);
    this.carry = "";
  }

  private line(raw: string, events: EngineEvent[], dead: DeadLetter[]): void {
    const line = raw.length > 0 && raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    const lineNo = ++this.lineNo;
    this.stats.lines++;
    const r = this.decoder.decode(line, lineNo);
    if (!r.ok) {
      if (r.reason !== "empty_line") this.fail(line, lineNo, r.reason, r.message, dead);
      return;
    }
    for (const fields of r.events) {
      const ts = r.ts ?? parseEventTime(getField(fields, "@timestamp"));
      if (ts === undefined) {
        this.fail(line, lineNo, "bad_timestamp", "the event has no usable @timestamp (RFC 3339 or epoch milliseconds)", dead);
        continue;
      }
      const id = getField(fields, "event.id");
      this.stats.events++;
      events.push({ id: typeof id === "string" ? id : `${this.source}:${lineNo}`, ts, seq: this.seq++, fields, source: this.source, position: lineNo });
    }
  }

  private fail(line: string, lineNo: number, reason: string, message: string, dead: DeadLetter[]): void {
    this.stats.failures.set(reason, (this.stats.failures.get(reason) ?? 0) + 1);
    this.onFailure?.({ source: this.source, line: lineNo, reason, message });
    dead.push({ reason, message, origin: this.source, position: lineNo, data: encoder.encode(line) });
  }
}

/**
 * Reads a log file (or stdin for `-`) into the target chunk by chunk, waiting for room
 * between chunks. Returns the next `seq`.
 */
export async function feedFile(
  path: string,
  opts: LogReadOptions,
  firstSeq: number,
  target: FeedTarget,
  stats: LogReadStats,
  onFailure?: (f: LineFailure) => void,
): Promise<number> {
  const source = path === "-" ? "stdin" : path;
  const dec = new ChunkDecoder(source, opts, firstSeq, stats, onFailure);
  const stream: Readable = path === "-" ? process.stdin : createReadStream(path, { highWaterMark: 1 << 18 });
  stream.setEncoding("utf8");
  for await (const chunk of stream as AsyncIterable<string>) {
    const events: EngineEvent[] = [];
    const dead: DeadLetter[] = [];
    dec.push(chunk, events, dead);
    if (events.length > 0 || dead.length > 0) await target.publish(events, dead);
  }
  const events: EngineEvent[] = [];
  const dead: DeadLetter[] = [];
  dec.flush(events, dead);
  if (events.length > 0 || dead.length > 0) await target.publish(events, dead);
  return dec.seq;
}

/**
 * Follows a file like `tail -F`: reads what is there, then waits for growth; when the file
 * is replaced (rotation: another inode at the path) or truncated, the rest of the old file
 * is read and reading starts again at the top of the new one; a file that does not exist
 * yet is waited for. Runs until `signal` aborts. Line numbers restart with each new file
 * generation so that event ids name the line in the file as it was.
 */
export async function followFile(
  path: string,
  opts: LogReadOptions,
  firstSeq: number,
  target: FeedTarget,
  stats: LogReadStats,
  follow: FollowOptions,
  signal: AbortSignal,
  onFailure?: (f: LineFailure) => void,
): Promise<number> {
  let seq = firstSeq;
  const buf = Buffer.allocUnsafe(1 << 18);
  const utf8 = new TextDecoder("utf-8");
  const sleep = () =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, follow.pollMs);
      function done() {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  while (!signal.aborted) {
    let fh: FileHandle;
    try {
      fh = await open(path, "r");
    } catch {
      await sleep(); // not there (yet, or between rotation steps)
      continue;
    }
    const dec = new ChunkDecoder(path, opts, seq, stats, onFailure);
    let offset = 0;
    try {
      const ino = (await fh.stat()).ino;
      while (!signal.aborted) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead > 0) {
          offset += bytesRead;
          const events: EngineEvent[] = [];
          const dead: DeadLetter[] = [];
          dec.push(utf8.decode(buf.subarray(0, bytesRead), { stream: true }), events, dead);
          if (events.length > 0 || dead.length > 0) await target.publish(events, dead);
          continue;
        }
        // At the end: rotated or truncated?
        const now = await stat(path).catch(() => undefined);
        if (now === undefined || now.ino !== ino) {
          // Replaced or removed: the old file is read to its end; the new one from the top.
          const events: EngineEvent[] = [];
          const dead: DeadLetter[] = [];
          dec.flush(events, dead);
          if (events.length > 0 || dead.length > 0) await target.publish(events, dead);
          break;
        }
        if (now.size < offset) {
          offset = 0; // truncated in place: start again at the top
          dec.lineNo = 0;
          continue;
        }
        await sleep();
      }
    } finally {
      seq = dec.seq;
      await fh.close();
    }
  }
  return seq;
}
