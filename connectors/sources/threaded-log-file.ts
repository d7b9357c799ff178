/**
 * {@link readLogEvents} over several files with the reading and decoding on a second thread:
 * the calling thread only rebuilds the decoded events (event-batch.ts) and hands them on, in
 * the same order, with the same ids, `seq` and failures as reading the files one by one.
 */
import { Worker } from "node:worker_threads";
import type { EngineEvent } from "../../engine/index.js";
import { type EventBatch, EventBatchReader } from "./event-batch.js";
import type { LineFailure, LogReadOptions, LogReadStats } from "./log-file.js";

export interface DecodeJob {
  readonly files: readonly string[];
  readonly opts: LogReadOptions;
}

export type ToDecoder = "consumed";

export type FromDecoder =
  | { readonly type: "batch"; readonly batch: EventBatch }
  | { readonly type: "end"; readonly file: number; readonly lines: number }
  | { readonly type: "error"; readonly file: number; readonly message: string };

/** An exception from a callback (or the thread failing) while `file` was being read. */
export class ThreadedReadError extends Error {
  constructor(
    readonly file: string,
    readonly error: Error,
  ) {
    super(error.message);
  }
}

/** How a threaded read ended: the next `seq`, and the file that could not be read (if one). */
export interface ThreadedReadResult {
  readonly seq: number;
  readonly unreadable?: { readonly file: string; readonly message: string };
}

/**
 * Reads `files` (paths, not `-`) in order on a decoding thread; events go to `onEvent` with
 * `seq` from `firstSeq` on. Stops at the first unreadable file (after its events so far). An
 * exception from `onEvent` or `onFailure` stops the thread and rejects ({@link ThreadedReadError}).
 */
export function readLogFilesInThread(
  files: readonly string[],
  opts: LogReadOptions,
  firstSeq: number,
  onEvent: (ev: EngineEvent) => void,
  onFailure: (f: LineFailure) => void,
  stats: LogReadStats,
): Promise<ThreadedReadResult> {
  const job: DecodeJob = { files, opts: { format: opts.format, year: opts.year, tz: opts.tz } };
  const worker = new Worker(new URL("./decode-worker.js", import.meta.url), { workerData: job });
  const reader = new EventBatchReader();
  let seq = firstSeq;
  let file = 0;
  let source = files[0] as string;
  const emit = (fields: Record<string, unknown>, ts: number, id: string, line: number): void => {
    stats.events++;
    onEvent({ id, ts, seq: seq++, fields, source, position: line });
  };
  return new Promise<ThreadedReadResult>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(new ThreadedReadError(source, err instanceof Error ? err : new Error(String(err))));
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (!settled) fail(new Error(`decoding thread exited with code ${code}`));
    });
    worker.on("message", (m: FromDecoder) => {
      if (settled) return;
      try {
        if (m.type === "batch") {
          reader.read(m.batch, emit);
          for (const f of m.batch.failures) {
            stats.failures.set(f.reason, (stats.failures.get(f.reason) ?? 0) + 1);
            onFailure({ source, line: f.line, reason: f.reason, message: f.message });
          }
          worker.postMessage("consumed" satisfies ToDecoder);
          return;
        }
        if (m.type === "end") {
          stats.lines += m.lines;
          file = m.file + 1;
          if (file < files.length) {
            source = files[file] as string;
            return;
          }
          settled = true;
          void worker.terminate();
          resolve({ seq });
          return;
        }
        settled = true;
        void worker.terminate();
        resolve({ seq, unreadable: { file: files[m.file] as string, message: m.message } });
      } catch (err) {
        fail(err);
      }
    });
  });
}
