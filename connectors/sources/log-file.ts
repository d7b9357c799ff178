import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { type EngineEvent, getField, parseEventTime } from "../../engine/index.js";
import { createDecoder, type DecoderFormat } from "../parsers/index.js";
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
): Promise<number> {
  const source = path === "-" ? "stdin" : path;
  const decoder = createDecoder(opts.format, { source, year: opts.year, tz: opts.tz });
  const stream: Readable = path === "-" ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  let seq = firstSeq;
  const fail = (line: number, reason: string, message: string) => {
    stats.failures.set(reason, (stats.failures.get(reason) ?? 0) + 1);
    onFailure({ source, line, reason, message });
  };
  stats.lines += await forEachLine(stream, (line, lineNo) => {
    const r = decoder.decode(line, lineNo);
    if (!r.ok) {
      if (r.reason !== "empty_line") fail(lineNo, r.reason, r.message);
      return;
    }
    for (const fields of r.events) {
      const ts = r.ts ?? parseEventTime(getField(fields, "@timestamp"));
      if (ts === undefined) {
        fail(lineNo, "bad_timestamp", "the event has no usable @timestamp (RFC 3339 or epoch milliseconds)");
        continue;
      }
      const id = getField(fields, "event.id");
      stats.events++;
      onEvent({ id: typeof id === "string" ? id : `${source}:${lineNo}`, ts, seq: seq++, fields, source, position: lineNo });
    }
  });
  return seq;
}
