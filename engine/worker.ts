/**
 * The main job's loop, one code path for every source: pull a batch of events from an
 * {@link EventSource} (JetStream, or the embedded bus fed by files, stdin and HTTP ingest),
 * evaluate it, make its effects durable (alert sinks, dead letters), checkpoint the engine
 * state with the source position it reflects, and only then acknowledge the batch.
 *
 * Nothing here does I/O of its own: sources, sinks and the checkpoint store are interfaces
 * that connectors implement.
 */
import { performance } from "node:perf_hooks";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { Alert } from "./alert.js";
import type { Engine } from "./engine.js";
import type { EngineEvent } from "./event.js";
import type { AlertSink, CheckpointStore, DeadLetter, DeadLetterSink } from "./pipeline.js";

/** Events (and what could not become events) from one pull of a source. */
export interface SourceBatch {
  readonly events: readonly EngineEvent[];
  readonly dead: readonly DeadLetter[];
  /** The source position this batch reaches (stream sequence, bus counter). */
  readonly position: number;
  /** Source units (messages, queued parts) that `ack` acknowledges: what back-pressure counts. */
  readonly units: number;
  /** Called once the batch's effects and a checkpoint covering it are durable. */
  ack(): void;
}

export interface EventSource {
  readonly name: string;
  /** Positions the source right after `position` (0: from the start), as restored from a checkpoint. */
  start(position: number): Promise<void>;
  /**
   * The next batch. An empty batch (no events, no dead letters) when nothing came within
   * the source's wait; `undefined` when the source has ended for good (files read to the
   * end, without following). Returns promptly once `signal` is aborted.
   */
  next(signal: AbortSignal): Promise<SourceBatch | undefined>;
  close(): Promise<void>;
}

/** What the worker reports as it goes (metrics); every method is optional and cheap. */
export interface WorkerObserver {
  batch?(events: number, dead: number, ms: number): void;
  alerts?(alerts: readonly Alert[]): void;
  deadLetters?(items: readonly DeadLetter[]): void;
  checkpoint?(position: number, ms: number): void;
  /** How long taking a checkpoint's snapshot held up the loop (ms). */
  snapshot?(ms: number): void;
  events?(events: readonly EngineEvent[]): void;
}

export interface WorkerOptions {
  readonly engine: Engine;
  readonly source: EventSource;
  /** Where alerts go; every sink resolves once its writes are durable. */
  readonly sinks: readonly AlertSink[];
  readonly deadLetters: DeadLetterSink;
  /** Without one, state lives in memory only (the embedded default). */
  readonly checkpoints?: CheckpointStore;
  /** How often (ms) state is checkpointed and batches acknowledged. */
  readonly checkpointIntervalMs: number;
  /**
   * With a checkpoint store: a checkpoint due by the interval is put off, by at most this long
   * (ms), while alerts come in a burst — more new alerts in the last 250 ms than twice the rate
   * of the previous interval (and at least 10) — since taking the snapshot holds up evaluation
   * (tens to hundreds of ms for a large state), and with it every alert of the burst. Default:
   * half the interval; 0 checkpoints as soon as the interval has passed. Back-pressure
   * (`maxPendingUnits`) and idleness never wait.
   */
  readonly checkpointDeferMs?: number;
  /**
   * Checkpoint (and acknowledge) at the latest once this many source units are unacknowledged,
   * and wait for that checkpoint before going on (back-pressure): keep it under what the
   * source can have in flight (JetStream: max_ack_pending).
   */
  readonly maxPendingUnits: number;
  /**
   * Let a batch's sink writes run while the next batches are evaluated (at most this many
   * batches in flight); the checkpoint still waits for all of them. For sinks whose writes are
   * independent of one another (JetStream publishes with message ids). Default 1: each
   * batch's writes finish before the next batch.
   */
  readonly effectsInFlight?: number;
  readonly signal: AbortSignal;
  /** Stop once no event came for this long (ms) — tests and benchmarks. */
  readonly idleStopMs?: number;
  readonly observer?: WorkerObserver;
  /** Drains the engine's alert callbacks: the worker owns the engine's onAlert/onAlertUpdate. */
  readonly takeAlerts: () => { fresh: Alert[]; updated: Alert[] };
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
  readonly now?: () => number;
}

export interface WorkerStats {
  batches: number;
  events: number;
  deadLetters: number;
  alerts: number;
  checkpoints: number;
  /** Last source position whose effects are checkpointed (or acknowledged, without a store). */
  position: number;
  /** Why the loop ended: the source ended, the signal, or idleness. */
  ended: "source_ended" | "signal" | "idle";
}

/**
 * Collects the engine's alerts for the worker: pass `onAlert`/`onAlertUpdate` to the Engine,
 * `take` to the worker.
 */
export function alertCollector(): { onAlert: (a: Alert) => void; onAlertUpdate: (a: Alert) => void; take: () => { fresh: Alert[]; updated: Alert[] } } {
  let fresh: Alert[] = [];
  const updated = new Set<Alert>();
  return {
    onAlert: (a) => void fresh.push(a),
    onAlertUpdate: (a) => void updated.add(a),
    take: () => {
      const f = fresh;
      fresh = [];
      const u = updated.size === 0 ? [] : [...updated].filter((a) => !f.includes(a));
      updated.clear();
      return { fresh: f, updated: u };
    },
  };
}

/**
 * Restores the checkpoint, positions the source, then loops until the source ends, the
 * signal aborts or the stream idles. Effects first, then the checkpoint, then the
 * acknowledgements: a crash anywhere replays exactly the unacknowledged batches and, with
 * deterministic alert ids, duplicates nothing. On a signal the batch in hand is finished,
 * checkpointed and acknowledged before returning (the drain).
 */
export async function runWorker(o: WorkerOptions): Promise<WorkerStats> {
  const now = o.now ?? Date.now;
  const stats: WorkerStats = { batches: 0, events: 0, deadLetters: 0, alerts: 0, checkpoints: 0, position: 0, ended: "signal" };
  const cp = o.checkpoints === undefined ? undefined : await o.checkpoints.load();
  if (cp !== undefined) o.engine.restore(cp.snapshot);
  stats.position = cp?.position ?? 0;
  o.log("restored checkpoint", { position: stats.position, found: cp !== undefined, source: o.source.name });
  await o.source.start(stats.position);

  let pending: (() => void)[] = [];
  let pendingPosition = stats.position;
  const deferMs = o.checkpoints === undefined ? 0 : (o.checkpointDeferMs ?? o.checkpointIntervalMs / 2);
  let lastCheckpoint = now();
  let lastEventAt = now();

  // Suppressed-count updates are coalesced until the next checkpoint (each alert's latest
  // count once), new alerts go out with their batch.
  const pendingUpdates = new Set<Alert>();
  // New alerts of the last BURST_MS (time, count) and of the interval so far, and the rate
  // (per ms) of the previous interval: a checkpoint is put off during a burst (checkpointDeferMs).
  const recent: [number, number][] = [];
  let recentAlerts = 0;
  let intervalAlerts = 0;
  let previousRate = 0;
  const forget = (t: number) => {
    while (recent.length > 0 && recent[0]![0] <= t - BURST_MS) recentAlerts -= recent.shift()![1];
  };
  const inBurst = (t: number): boolean => {
    forget(t);
    return recentAlerts >= Math.max(BURST_MIN_ALERTS, 2 * previousRate * BURST_MS);
  };
  const effects = async (extraDead: DeadLetter[], withUpdates: boolean) => {
    const { fresh, updated } = o.takeAlerts();
    if (fresh.length > 0) {
      const t = now();
      forget(t);
      recent.push([t, fresh.length]);
      recentAlerts += fresh.length;
      intervalAlerts += fresh.length;
    }
    for (const a of updated) pendingUpdates.add(a);
    for (const a of fresh) pendingUpdates.delete(a);
    let updates: Alert[] = [];
    if (withUpdates && pendingUpdates.size > 0) {
      updates = [...pendingUpdates];
      pendingUpdates.clear();
    }
    if (fresh.length > 0 || updates.length > 0) {
      await Promise.all(o.sinks.map((s) => s.write(fresh, updates)));
      stats.alerts += fresh.length;
      if (fresh.length > 0) o.observer?.alerts?.(fresh);
    }
    if (extraDead.length > 0) {
      await o.deadLetters.deadLetter(extraDead);
      stats.deadLetters += extraDead.length;
      o.observer?.deadLetters?.(extraDead);
    }
  };
  // Sink writes still running (effectsInFlight > 1); a checkpoint waits for them all.
  let inflight: Promise<void>[] = [];
  const settle = async () => {
    const all = inflight;
    inflight = [];
    await Promise.all(all);
  };
  // The checkpoint is pipelined: the snapshot is taken at once (between two batches), then
  // serialised and written while the next batches are evaluated; the batches it covers are acknowledged
  // when it is durable. One write at a time; a failed write fails the loop at its next step.
  let pendingUnits = 0;
  let saving: Promise<void> | undefined;
  let saveError: Error | undefined;
  const checkFailed = () => {
    if (saveError !== undefined) throw saveError;
  };
  const checkpoint = async (wait: boolean) => {
    if (saving !== undefined) {
      if (!wait) return; // the next one starts when this one is done
      await saving;
    }
    checkFailed();
    await settle();
    if (pending.length === 0 && pendingUpdates.size === 0) return;
    // The coalesced count updates are written while the next batches run (thousands of
    // publishes: hundreds of ms that would stall evaluation); the checkpoint write starts once
    // they are durable, so a checkpoint never covers updates that could be lost.
    const updatesWritten = pendingUpdates.size > 0 ? effects([], true) : undefined;
    if (pending.length === 0) {
      if (updatesWritten !== undefined) await updatesWritten;
      return;
    }
    const t0 = now();
    const acks = pending;
    const position = pendingPosition;
    pending = [];
    pendingUnits = 0;
    previousRate = intervalAlerts / Math.max(1, t0 - lastCheckpoint);
    intervalAlerts = 0;
    lastCheckpoint = t0;
    const done = () => {
      for (const ack of acks) ack();
      stats.position = position;
      o.observer?.checkpoint?.(position, now() - t0);
    };
    if (o.checkpoints === undefined) {
      if (updatesWritten !== undefined) await updatesWritten;
      done();
      return;
    }
    // The snapshot is detached: the store may serialise it while the next batches run.
    const cp = { position, snapshot: o.engine.snapshot(), savedAt: new Date(t0).toISOString() };
    o.observer?.snapshot?.(now() - t0);
    const store = o.checkpoints;
    const write = updatesWritten === undefined ? store.save(cp) : updatesWritten.then(() => store.save(cp));
    stats.checkpoints++;
    saving = write.then(
      () => {
        saving = undefined;
        done();
      },
      (err: unknown) => {
        saving = undefined;
        saveError = err instanceof Error ? err : new Error(String(err));
      },
    );
    if (wait) {
      await saving;
      checkFailed();
    }
  };

  // When the source has a backlog its next() resolves at once, and batch after batch would run
  // without the event loop getting a turn: no publish acknowledgements (the alerts of those
  // batches are not durable, nor reported, until then), no new messages, no timers. The loop
  // gives it one at least every YIELD_MS of work.
  let lastYield = performance.now();
  for (;;) {
    if (performance.now() - lastYield >= YIELD_MS) {
      await yieldToLoop();
      lastYield = performance.now();
    }
    if (o.signal.aborted) {
      stats.ended = "signal";
      break;
    }
    if (o.idleStopMs !== undefined && now() - lastEventAt >= o.idleStopMs) {
      stats.ended = "idle";
      break;
    }
    checkFailed();
    const b = await o.source.next(o.signal);
    if (b === undefined) {
      stats.ended = "source_ended";
      // Files read to the end: let absence timers run to the last event time.
      o.engine.finish();
      await effects([], true);
      break;
    }
    const t0 = now();
    const dead: DeadLetter[] = b.dead.length > 0 ? [...b.dead] : [];
    const evs = b.events;
    if (evs.length > 0 || dead.length > 0) lastEventAt = t0;
    for (let i = 0; i < evs.length; i++) {
      const ev = evs[i]!;
      const r = o.engine.process(ev);
      if (!r.accepted) dead.push({ reason: r.reason, message: r.message, origin: ev.source ?? ev.id, position: ev.position ?? 0, data: encodeFields(ev) });
    }
    stats.events += evs.length;
    if (evs.length > 0) o.observer?.events?.(evs);
    const written = effects(dead, false);
    if ((o.effectsInFlight ?? 1) <= 1) await written;
    else {
      written.catch(() => undefined); // awaited (and its error raised) by settle()
      inflight.push(written);
      if (inflight.length >= (o.effectsInFlight ?? 1)) await settle();
    }
    stats.batches++;
    o.observer?.batch?.(evs.length, dead.length, now() - t0);
    const empty = evs.length === 0 && b.dead.length === 0;
    // An empty pull acknowledges nothing: an idle stream writes no checkpoints.
    if (b.units > 0 || !empty) {
      pending.push(() => b.ack());
      pendingUnits += b.units;
      pendingPosition = Math.max(pendingPosition, b.position);
    }
    if (pendingUnits >= o.maxPendingUnits) await checkpoint(true);
    else if (empty) await checkpoint(false);
    else {
      const since = now() - lastCheckpoint;
      if (since >= o.checkpointIntervalMs && (since >= o.checkpointIntervalMs + deferMs || !inBurst(now()))) await checkpoint(false);
    }
  }
  await checkpoint(true);
  o.log("stopped", { ...stats });
  return stats;
}

/** A burst of alerts: at least BURST_MIN_ALERTS, and twice the previous interval's rate, within BURST_MS. */
const BURST_MS = 250;
const BURST_MIN_ALERTS = 10;

/** Most time (ms) the loop runs batches without giving the event loop a turn. */
const YIELD_MS = 10;

const encoder = new TextEncoder();
function encodeFields(ev: EngineEvent): Uint8Array {
  return encoder.encode(JSON.stringify(ev.fields));
}
