import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { EngineEvent, EventFields } from "../../engine/index.js";
import { createDecoder, type DecoderFormat, MAX_LINE_BYTES } from "../parsers/index.js";
import { forEachLine } from "./lines.js";

export interface LogReadOptions {
  readonly format: DecoderFormat;
  readonly year?: number;
  readonly tz?: string;
}

/** A line that could not become an event, with where and why. */
export interface LineFailure {
  readonly source: string;
  readonly line: number;
  readonly reason: string;
  readonly message: string;
}

export interface LogReadStats {
  lines: number;
  events: number;
  readonly failures: Map<string, number>;
}

/**
 * Reads a log file (or stdin for `-`) and turns each line into engine events, in order.
 * `seq` continues across files from `firstSeq`, so equal timestamps keep source order.
 */
export async function readLogEvents(
  path: string,
  opts: LogReadOptions,
  firstSeq: number,
  onEvent: (ev: EngineEvent) => void,
  onFailure: (f: LineFailure) => void,
  stats: LogReadStats,
  afterChunk?: () => Promise<void>,
): Promise<number> {
  const source = path === "-" ? "stdin" : path;
  const stream: Readable = path === "-" ? process.stdin : createReadStream(path, { highWaterMark: 1 << 19 });
  return readLogStream(stream, source, opts, firstSeq, onEvent, onFailure, stats, afterChunk);
}

/**
 * {@link readLogEvents} over any byte stream named `source` (a followed file's generation).
 * `afterChunk` is awaited after each chunk's lines (back-pressure).
 */
export async function readLogStream(
  stream: Readable,
  source: string,
  opts: LogReadOptions,
  firstSeq: number,
  onEvent: (ev: EngineEvent) => void,
  onFailure: (f: LineFailure) => void,
  stats: LogReadStats,
  afterChunk?: () => Promise<void>,
): Promise<number> {
  const decoder = createDecoder(opts.format, { source, year: opts.year, tz: opts.tz });
  let seq = firstSeq;
  let lineNo = 0;
  const emit = (fields: EventFields, ts: number, id: string): void => {
    stats.events++;
    onEvent({ id, ts, seq: seq++, fields, source, position: lineNo });
  };
  stats.lines += await forEachLine(
    stream,
    (line, n, lineHash) => {
      lineNo = n;
      const f = decoder.decodeTo(line, n, lineHash, emit);
      if (f !== undefined && f.reason !== "empty_line") {
        stats.failures.set(f.reason, (stats.failures.get(f.reason) ?? 0) + 1);
        onFailure({ source, line: n, reason: f.reason, message: f.message });
      }
    },
    { maxLineBytes: MAX_LINE_BYTES, ...(afterChunk === undefined ? {} : { afterChunk }) },
  );
  return seq;
}
