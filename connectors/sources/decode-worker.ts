/**
 * The decoding thread of {@link readLogFilesInThread}: reads and decodes the files in order and
 * posts the events in batches (event-batch.ts), at most a few batches ahead of the consumer.
 */
import { createReadStream } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { createDecoder, type EventFilter, MAX_LINE_BYTES } from "../parsers/index.js";
import type { EventFields } from "../../engine/event.js";
import { EventBatchWriter } from "./event-batch.js";
import { forEachLine } from "./lines.js";
import { compilePackInput } from "./pack-filter.js";
import { keyIsRead } from "../../dsl/compile/reads.js";
import type { DecodeJob, FromDecoder, ToDecoder } from "./threaded-log-file.js";

/** Batches posted and not yet consumed: bounds the memory held by a fast reader. */
const MAX_AHEAD = 4;

const port = parentPort;
if (port === null) throw new Error("decode-worker.js runs as a worker thread");
const job = workerData as DecodeJob;

/**
 * The pack the consumer runs, compiled here too (while the consumer compiles its own): once
 * the consumer confirms that it compiled the same (equal digests), events no rule can act on
 * are sent by their time alone. Until then, and without a pack, every event is sent whole.
 */
const packed = ((): ReturnType<typeof compilePackInput> | undefined => {
  try {
    return job.pack === undefined ? undefined : compilePackInput(job.pack);
  } catch {
    return undefined; // then every event goes whole: the consumer's own compilation reports
  }
})();
/**
 * Once confirmed: the events no rule can act on go by their time alone, decided before the
 * decoder computes their ids when the pack does not read `event.id` (else after).
 */
let relevant: ((fields: EventFields) => boolean) | undefined;
const lazyIds = packed !== undefined && !keyIsRead("event.id", packed.pack.reads);
let filter: EventFilter | undefined;
const writer = new EventBatchWriter();
let lineNo = 0;

let ahead = 0;
let wake: (() => void) | undefined;
port.on("message", (m: ToDecoder) => {
  if (m === "consumed") {
    ahead--;
    const w = wake;
    wake = undefined;
    w?.();
  } else if (m.type === "pack" && packed !== undefined && m.digest === packed.digest) {
    const pack = packed.pack;
    relevant = pack.relevant;
    if (lazyIds) filter = { keep: pack.relevant, pass: (ts) => writer.addPassed(ts, lineNo) };
    // The fields no rule reads stay here.
    writer.projectTo((key) => keyIsRead(key, pack.reads));
  }
});

function post(m: FromDecoder, transfer?: ArrayBuffer[]): void {
  (port as NonNullable<typeof port>).postMessage(m, transfer);
}

async function run(): Promise<void> {
  for (let file = 0; file < job.files.length; file++) {
    const path = job.files[file] as string;
    const decoder = createDecoder(job.opts.format, { source: path, year: job.opts.year, tz: job.opts.tz });
    lineNo = 0;
    const sink = (fields: EventFields, ts: number, id: string): void => {
      // With the filter, the decoder has kept only the relevant events.
      if (filter !== undefined || relevant === undefined || relevant(fields)) writer.add(fields, ts, id, lineNo);
      else writer.addPassed(ts, lineNo);
    };
    const flush = async (): Promise<void> => {
      if (writer.size === 0) return;
      const batch = writer.take();
      post({ type: "batch", batch }, [batch.nums.buffer as ArrayBuffer]);
      ahead++;
      while (ahead >= MAX_AHEAD) await new Promise<void>((r) => (wake = r));
    };
    let lines: number;
    try {
      lines = await forEachLine(
        createReadStream(path, { highWaterMark: 1 << 19 }),
        (line, n, lineHash) => {
          lineNo = n;
          const f = decoder.decodeTo(line, n, lineHash, sink, filter);
          if (f !== undefined && f.reason !== "empty_line") writer.addFailure(n, f.reason, f.message);
        },
        // With lazy ids, few lines need their hash (the decoder hashes those it keeps).
        { maxLineBytes: MAX_LINE_BYTES, afterChunk: flush, hashLines: !lazyIds },
      );
    } catch (err) {
      await flush();
      post({ type: "error", file, message: (err as Error).message });
      return;
    }
    post({ type: "end", file, lines });
  }
}

await run();
