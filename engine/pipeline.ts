/**
 * The interfaces through which the engine meets the outside world in `vigil run`; the
 * connectors implement them. Nothing here does I/O.
 */
import type { Alert } from "./alert.js";
import type { EngineSnapshot } from "./engine.js";

/** Where alerts go (JetStream, stdout, the incident store). Resolves once they are durable. */
export interface AlertSink {
  readonly name: string;
  /** New alerts, and alerts whose suppressed count changed since they were written. */
  write(alerts: readonly Alert[], updates: readonly Alert[]): Promise<void>;
}

/** A message that could not become events, with why. */
export interface DeadLetter {
  readonly reason: string;
  readonly message: string;
  /** The subject (or file) it came from. */
  readonly origin: string;
  /** Its position there (stream sequence, line). */
  readonly position: number;
  readonly data: Uint8Array;
}

export interface DeadLetterSink {
  deadLetter(items: readonly DeadLetter[]): Promise<void>;
}

/** The engine's state as of a stream position. */
export interface Checkpoint {
  /** The last stream sequence whose effects the snapshot includes. */
  readonly position: number;
  readonly snapshot: EngineSnapshot;
  readonly savedAt: string;
}

export interface CheckpointStore {
  load(): Promise<Checkpoint | undefined>;
  /**
   * Makes `cp` durable. The worker goes on evaluating while the write runs; `cp.snapshot` is
   * detached from the engine (see `Engine.snapshot`), so it may be serialised at any pace.
   */
  save(cp: Checkpoint): Promise<void>;
}
