import { type FileHandle, open, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { EngineEvent } from "../../engine/index.js";
import type { DeadLetter } from "../../engine/pipeline.js";
import { type LineFailure, type LogReadOptions, type LogReadStats, readLogEvents, readLogStream } from "./log-file.js";

export interface FeedTarget {
  /** Takes one chunk's events and undecodable lines; resolves when there is room for more. */
  publish(events: readonly EngineEvent[], dead: readonly DeadLetter[]): Promise<void>;
}

export interface FollowOptions {
  /** How often a followed file is checked for growth, rotation or truncation (ms). */
  readonly pollMs: number;
}

const encoder = new TextEncoder();

/** Collects a chunk's events and failures and hands them to the target after the chunk. */
function chunker(target: FeedTarget, onFailure: ((f: LineFailure) => void) | undefined) {
  let events: EngineEvent[] = [];
  let dead: DeadLetter[] = [];
  return {
    onEvent: (ev: EngineEvent) => void events.push(ev),
    onFailure: (f: LineFailure) => {
      onFailure?.(f);
      dead.push({ reason: f.reason, message: f.message, origin: f.source, position: f.line, data: encoder.encode(`${f.source}:${f.line}`) });
    },
    afterChunk: async () => {
      if (events.length === 0 && dead.length === 0) return;
      const e = events;
      const d = dead;
      events = [];
      dead = [];
      await target.publish(e, d);
    },
  };
}

/**
 * Reads a log file (or stdin for `-`) into the target chunk by chunk, waiting for room
 * between chunks; the events are exactly those `vigil replay` reads (same ids, same `seq`).
 * Undecodable lines become dead letters with their reason. Returns the next `seq`.
 */
export async function feedFile(path: string, opts: LogReadOptions, firstSeq: number, target: FeedTarget, stats: LogReadStats, onFailure?: (f: LineFailure) => void): Promise<number> {
  const c = chunker(target, onFailure);
  return readLogEvents(path, opts, firstSeq, c.onEvent, c.onFailure, stats, c.afterChunk);
}

/**
 * The bytes of one generation of a followed file: what is there, then what is appended,
 * until the file at `path` is replaced (another inode: rotation), removed or truncated; then
 * the stream ends (after the old file's last bytes). Undefined while the file does not exist.
 */
async function openGeneration(path: string, follow: FollowOptions, signal: AbortSignal, sleep: () => Promise<void>): Promise<Readable | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch {
    return undefined;
  }
  const ino = (await fh.stat()).ino;
  const buf = Buffer.allocUnsafe(1 << 18);
  async function* bytes(): AsyncGenerator<Buffer> {
    let offset = 0;
    try {
      while (!signal.aborted) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead > 0) {
          offset += bytesRead;
          yield Buffer.from(buf.subarray(0, bytesRead));
          continue;
        }
        const now = await stat(path).catch(() => undefined);
        if (now === undefined || now.ino !== ino || now.size < offset) return; // rotated, removed or truncated
        await sleep();
      }
    } finally {
      await fh.close();
    }
  }
  void follow;
  return Readable.from(bytes(), { objectMode: false });
}

/**
 * Follows a file like `tail -F`: reads what is there, then waits for growth; when the file
 * is replaced (rotation: another inode at the path) or truncated, the rest of the old file
 * is read and reading starts again at the top of the new one; a file that does not exist
 * yet is waited for. Runs until `signal` aborts. Line numbers restart with each generation
 * of the file so that event ids name the line in the file as it was.
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
  const sleep = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, follow.pollMs);
      signal.addEventListener("abort", done, { once: true });
    });
  while (!signal.aborted) {
    const stream = await openGeneration(path, follow, signal, sleep);
    if (stream === undefined) {
      await sleep(); // not there (yet, or between rotation steps)
      continue;
    }
    const c = chunker(target, onFailure);
    seq = await readLogStream(stream, path, opts, seq, c.onEvent, c.onFailure, stats, c.afterChunk);
  }
  return seq;
}
