/**
 * {@link readLogEvents} over several files with the reading and decoding on a second thread:
 * the calling thread only rebuilds the decoded events (event-batch.ts) and hands them on, in
 * the same order, with the same ids, `seq` and failures as reading the files one by one.
 */
import { Worker } from "node:worker_threads";
import type { EngineEvent } from "../../engine/index.js";
import { type EventBatch, EventBatchReader } from "./event-batch.js";
import type { LineFailure, LogReadOptions, LogReadStats } from "./log-file.js";
import type { PackInput } from "./pack-filter.js";

export interface DecodeJob {
  readonly files: readonly string[];
  readonly opts: LogReadOptions;
  /** The pack the events are for (see {@link DecodeThread.usePack}). */
  readonly pack?: PackInput;
}

export type ToDecoder = "consumed" | { readonly type: "pack"; readonly digest: string };

export type FromDecoder =
  | { readonly type: "batch"; readonly batch: EventBatch }
  | { readonly type: "end"; readonly file: number; readonly lines: number }
  | { readonly type: "error"; readonly file: number; readonly message: string };

/** An event that no rule of the pack can act on: its time and place, without its fields. */
export interface PassedEvent {
  readonly ts: number;
  readonly seq: number;
  readonly source: string;
  readonly position: number;
}

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
 * A decoding thread reading `files` (paths, not `-`) in order. It starts at once, so that it
 * loads and reads ahead (a few batches) while the caller still prepares, e.g. compiles rules.
 */
export class DecodeThread {
  private readonly worker: Worker;
  /** Messages that came before {@link read} (at most a few batches: nothing is acknowledged). */
  private readonly early: FromDecoder[] = [];
  private onMessage: ((m: FromDecoder) => void) | undefined;
  private onError: ((err: Error) => void) | undefined;
  private error: Error | undefined;
  private done = false;

  /**
   * With `pack`, the thread compiles that pack as well; see {@link usePack}, without which
   * every event is sent whole.
   */
  constructor(
    private readonly files: readonly string[],
    opts: LogReadOptions,
    pack?: PackInput,
  ) {
    const job: DecodeJob = { files, opts: { format: opts.format, year: opts.year, tz: opts.tz }, pack };
    this.worker = new Worker(new URL("./decode-worker.js", import.meta.url), { workerData: job });
    this.worker.on("message", (m: FromDecoder) => (this.onMessage === undefined ? this.early.push(m) : this.onMessage(m)));
    const failed = (err: Error): void => {
      if (this.done) return;
      if (this.onError === undefined) this.error ??= err;
      else this.onError(err);
    };
    this.worker.on("error", failed);
    this.worker.on("exit", (code) => failed(new Error(`decoding thread exited with code ${code}`)));
  }

  /**
   * The caller runs the pack the thread was given, compiled with this digest
   * (`compilePackInput`): when the thread's own compilation has the same, it sends the events
   * that no rule of the pack can act on by their time alone (to `read`'s `onPass`).
   */
  usePack(digest: string): void {
    this.worker.postMessage({ type: "pack", digest } satisfies ToDecoder);
  }

  /** Ends the thread (when its events are not wanted after all). */
  stop(): void {
    this.done = true;
    void this.worker.terminate();
  }

  /**
   * Hands the events to `onEvent` with `seq` from `firstSeq` on. Stops at the first unreadable
   * file (after its events so far). An exception from `onEvent` or `onFailure` stops the thread
   * and rejects ({@link ThreadedReadError}).
   */
  read(
    firstSeq: number,
    onEvent: (ev: EngineEvent) => void,
    onFailure: (f: LineFailure) => void,
    stats: LogReadStats,
    onPass?: (ev: PassedEvent) => void,
  ): Promise<ThreadedReadResult> {
    const files = this.files;
    const reader = new EventBatchReader();
    let seq = firstSeq;
    let source = files[0] as string;
    const emit = (fields: Record<string, unknown>, ts: number, id: string, line: number): void => {
      stats.events++;
      onEvent({ id, ts, seq: seq++, fields, source, position: line });
    };
    const pass =
      onPass === undefined
        ? undefined
        : (ts: number, line: number): void => {
            stats.events++;
            onPass({ ts, seq: seq++, source, position: line });
          };
    return new Promise<ThreadedReadResult>((resolve, reject) => {
      const fail = (err: Error): void => {
        if (this.done) return;
        this.stop();
        reject(new ThreadedReadError(source, err));
      };
      const finish = (r: ThreadedReadResult): void => {
        this.stop();
        resolve(r);
      };
      const handle = (m: FromDecoder): void => {
        if (this.done) return;
        try {
          if (m.type === "batch") {
            reader.read(m.batch, emit, pass);
            for (const f of m.batch.failures) {
              stats.failures.set(f.reason, (stats.failures.get(f.reason) ?? 0) + 1);
              onFailure({ source, line: f.line, reason: f.reason, message: f.message });
            }
            this.worker.postMessage("consumed" satisfies ToDecoder);
          } else if (m.type === "end") {
            stats.lines += m.lines;
            const next = m.file + 1;
            if (next < files.length) source = files[next] as string;
            else finish({ seq });
          } else finish({ seq, unreadable: { file: files[m.file] as string, message: m.message } });
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
        }
      };
      for (const m of this.early.splice(0)) handle(m);
      if (this.done) return;
      if (this.error !== undefined) return fail(this.error);
      this.onMessage = handle;
      this.onError = fail;
    });
  }
}

/** {@link DecodeThread.read} of a thread started for the purpose. */
export function readLogFilesInThread(
  files: readonly string[],
  opts: LogReadOptions,
  firstSeq: number,
  onEvent: (ev: EngineEvent) => void,
  onFailure: (f: LineFailure) => void,
  stats: LogReadStats,
): Promise<ThreadedReadResult> {
  return new DecodeThread(files, opts).read(firstSeq, onEvent, onFailure, stats);
}
