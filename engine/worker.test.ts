import { describe, expect, test } from "vitest";
import { loadPack } from "../dsl/index.js";
import { Engine } from "./engine.js";
import type { EngineEvent } from "./event.js";
import type { Alert } from "./alert.js";
import type { Checkpoint, CheckpointStore } from "./pipeline.js";
import { alertCollector, type EventSource, runWorker, type SourceBatch } from "./worker.js";

const T0 = Date.UTC(2024, 0, 1);
const RULE = `rule brute { severity high when outcome == "failure" count >= 3 within 10s by ip }`;

/** A source of fixed batches (one event each), then `idle` empty pulls, logging every step in `log`. */
function scriptedSource(n: number, log: string[], idle = 0): EventSource {
  let i = 0;
  let empties = 0;
  return {
    name: "script",
    start: () => Promise.resolve(),
    next: () => {
      if (i >= n && empties < idle) {
        empties++;
        log.push("empty");
        // As a real source does: an empty pull comes after a wait (here one turn of the loop).
        return new Promise<SourceBatch>((r) => setImmediate(() => r({ events: [], dead: [], position: n, units: 0, ack: () => undefined })));
      }
      if (i >= n) return Promise.resolve(undefined);
      i++;
      const pos = i;
      const ev: EngineEvent = { id: `e${pos}`, ts: T0 + pos * 1000, seq: pos, fields: { outcome: "failure", ip: "a" }, source: "s", position: pos };
      log.push(`batch ${pos}`);
      const b: SourceBatch = { events: [ev], dead: [], position: pos, units: 1, ack: () => void log.push(`ack ${pos}`) };
      return Promise.resolve(b);
    },
    close: () => Promise.resolve(),
  };
}

/** A checkpoint store whose saves finish only when the test says so. */
class GatedStore implements CheckpointStore {
  readonly saved: { position: number; json: string }[] = [];
  readonly gates: { position: number; open: () => void; fail: (e: Error) => void }[] = [];
  constructor(private readonly log: string[]) {}
  load(): Promise<Checkpoint | undefined> {
    return Promise.resolve(undefined);
  }
  save(cp: Checkpoint): Promise<void> {
    this.log.push(`save ${cp.position}`);
    return new Promise<void>((resolve, reject) => {
      this.gates.push({
        position: cp.position,
        open: () => {
          // Serialised only now, after the worker went on: the snapshot must be detached.
          this.saved.push({ position: cp.position, json: JSON.stringify(cp.snapshot) });
          this.log.push(`saved ${cp.position}`);
          resolve();
        },
        fail: reject,
      });
    });
  }
}

function setup(opts: { batches: number; maxPendingUnits: number; log: string[]; store: CheckpointStore; idle?: number }) {
  const pack = loadPack([{ path: "t.vigil", text: RULE }]);
  const collector = alertCollector();
  const engine = new Engine(pack, { onAlert: collector.onAlert, onAlertUpdate: collector.onAlertUpdate, now: () => T0 + 86_400_000 });
  const ctl = new AbortController();
  const run = runWorker({
    engine,
    source: scriptedSource(opts.batches, opts.log, opts.idle),
    sinks: [],
    deadLetters: { deadLetter: () => Promise.resolve() },
    checkpoints: opts.store,
    checkpointIntervalMs: 0, // a checkpoint is due after every batch
    maxPendingUnits: opts.maxPendingUnits,
    signal: ctl.signal,
    takeAlerts: collector.take,
    log: () => undefined,
  });
  return { engine, run };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Lets every save through as it comes, until the worker returns. */
async function openAll(store: GatedStore, run: Promise<unknown>, from: number): Promise<void> {
  let done = false;
  void run.finally(() => (done = true)).catch(() => undefined);
  let opened = from;
  while (!done) {
    while (opened < store.gates.length) store.gates[opened++]!.open();
    await tick();
  }
}

describe("the worker's pipelined checkpoint", () => {
  test("evaluation goes on while a checkpoint is written; its batches are acknowledged only once it is durable", async () => {
    const log: string[] = [];
    const store = new GatedStore(log);
    const { run } = setup({ batches: 5, maxPendingUnits: 100, log, store });
    for (let i = 0; i < 5 && store.gates.length === 0; i++) await tick();
    // The first checkpoint (after batch 1) is being written, and batches 2..5 are evaluated meanwhile.
    for (let i = 0; i < 5; i++) await tick();
    expect(log.slice(0, 2)).toEqual(["batch 1", "save 1"]);
    expect(log).toContain("batch 5");
    expect(log.filter((l) => l.startsWith("ack"))).toEqual([]);
    store.gates[0]!.open();
    await tick();
    expect(log.filter((l) => l.startsWith("ack"))).toEqual(["ack 1"]);
    // The final checkpoint covers the rest.
    while (store.gates.length < 2) await tick();
    store.gates[1]!.open();
    const stats = await run;
    expect(stats.position).toBe(5);
    expect(log.filter((l) => l.startsWith("ack"))).toEqual(["ack 1", "ack 2", "ack 3", "ack 4", "ack 5"]);
    // Every ack comes after the save that covers it.
    for (const p of [1, 2, 3, 4, 5]) {
      const saved = store.saved.find((s) => s.position >= p)!.position;
      expect(log.indexOf(`ack ${p}`)).toBeGreaterThan(log.indexOf(`saved ${saved}`));
    }
  });

  test("suppressed-count updates are written while evaluation goes on; the checkpoint is written only once they are durable", async () => {
    const log: string[] = [];
    const saves: number[] = [];
    const store: CheckpointStore = {
      load: () => Promise.resolve(undefined),
      save: (cp) => {
        log.push(`save ${cp.position}`);
        saves.push(cp.position);
        return Promise.resolve();
      },
    };
    const pack = loadPack([{ path: "t.vigil", text: `rule brute { severity high when outcome == "failure" count >= 3 within 10s by ip suppress 1h by ip }` }]);
    const collector = alertCollector();
    const engine = new Engine(pack, { onAlert: collector.onAlert, onAlertUpdate: collector.onAlertUpdate, now: () => T0 + 86_400_000 });
    const updateGates: (() => void)[] = [];
    const inner = scriptedSource(8, log);
    const run = runWorker({
      engine,
      // One turn of the loop per pull, as a real source: a checkpoint written at once completes between batches.
      source: { ...inner, next: (signal) => tick().then(() => inner.next(signal)) },
      sinks: [
        {
          name: "gated",
          write: (fresh, updates) => {
            if (fresh.length > 0) log.push(`alert ${fresh.length}`);
            if (updates.length === 0) return Promise.resolve();
            log.push(`updates ${updates.map((a) => a.suppressed).join(",")}`);
            return new Promise<void>((r) => updateGates.push(() => (log.push("updates durable"), r())));
          },
        },
      ],
      deadLetters: { deadLetter: () => Promise.resolve() },
      checkpoints: store,
      checkpointIntervalMs: 0,
      maxPendingUnits: 100,
      signal: new AbortController().signal,
      takeAlerts: collector.take,
      log: () => undefined,
    });
    // Batch 3 raises the alert, batch 4 is suppressed: its count update goes out with the next checkpoint.
    for (let i = 0; i < 50 && updateGates.length === 0; i++) await tick();
    for (let i = 0; i < 10; i++) await tick();
    const u = log.indexOf("updates 1");
    expect(u).toBeGreaterThan(log.indexOf("batch 4"));
    // The loop went on evaluating while the update is being written, but saved no checkpoint meanwhile.
    expect(log.slice(u).some((l) => l.startsWith("batch "))).toBe(true);
    expect(log.slice(u).filter((l) => l.startsWith("save"))).toEqual([]);
    expect(log.slice(u).filter((l) => l.startsWith("ack"))).toEqual([]);
    updateGates[0]!();
    for (let i = 0; i < 50 && !log.includes("ack 8"); i++) {
      await tick();
      for (const g of updateGates.splice(1)) g();
    }
    const stats = await run;
    expect(stats.position).toBe(8);
    // The next checkpoint starts after the update is durable, and the batches it covers are acknowledged after both.
    const durable = log.indexOf("updates durable");
    const saveAfter = log.findIndex((l, i) => i > u && l.startsWith("save "));
    expect(saveAfter).toBeGreaterThan(durable);
    expect(log.findIndex((l, i) => i > u && l.startsWith("ack "))).toBeGreaterThan(saveAfter);
  });

  test("the snapshot is the state at the checkpoint's position, not later", async () => {
    const log: string[] = [];
    const store = new GatedStore(log);
    const { run } = setup({ batches: 4, maxPendingUnits: 100, log, store });
    while (store.gates.length === 0) await tick();
    for (let i = 0; i < 5; i++) await tick(); // batches 2..4 evaluated while checkpoint 1 waits
    store.gates[0]!.open();
    while (store.gates.length < 2) await tick();
    store.gates[1]!.open();
    await run;
    // A fresh engine restored from checkpoint 1 holds exactly one event in brute's window.
    const first = JSON.parse(store.saved[0]!.json) as { counters: { events: number } };
    expect(store.saved[0]!.position).toBe(1);
    expect(first.counters.events).toBe(1);
    const last = JSON.parse(store.saved[1]!.json) as { counters: { events: number } };
    expect(store.saved[1]!.position).toBe(4);
    expect(last.counters.events).toBe(4);
  });

  test("back-pressure: past maxPendingUnits the worker waits for the checkpoint in flight", async () => {
    const log: string[] = [];
    const store = new GatedStore(log);
    const { run } = setup({ batches: 6, maxPendingUnits: 2, log, store });
    while (store.gates.length === 0) await tick();
    for (let i = 0; i < 10; i++) await tick();
    // Checkpoint 1 is in flight; batches 2 and 3 make 2 pending units, and the worker waits there.
    expect(log.filter((l) => l.startsWith("batch"))).toEqual(["batch 1", "batch 2", "batch 3"]);
    store.gates[0]!.open();
    for (let i = 0; i < 10; i++) await tick();
    expect(store.gates.length).toBe(2);
    expect(store.gates[1]!.position).toBe(3);
    expect(log.filter((l) => l.startsWith("batch"))).toEqual(["batch 1", "batch 2", "batch 3"]);
    store.gates[1]!.open();
    await openAll(store, run, 2);
    const stats = await run;
    expect(stats.position).toBe(6);
    expect(log.filter((l) => l.startsWith("ack"))).toEqual(["ack 1", "ack 2", "ack 3", "ack 4", "ack 5", "ack 6"]);
  });

  test("a failed checkpoint write fails the worker, and nothing it covers is acknowledged", async () => {
    const log: string[] = [];
    const store = new GatedStore(log);
    const { run } = setup({ batches: 5, maxPendingUnits: 100, log, store });
    while (store.gates.length === 0) await tick();
    store.gates[0]!.fail(new Error("KV down"));
    await expect(run).rejects.toThrow("KV down");
    expect(log.filter((l) => l.startsWith("ack"))).toEqual([]);
  });

  test("an idle stream writes no checkpoints: empty pulls acknowledge nothing", async () => {
    const log: string[] = [];
    const store = new GatedStore(log);
    const { run } = setup({ batches: 2, maxPendingUnits: 100, log, store, idle: 20 });
    await openAll(store, run, 0);
    expect(log.filter((l) => l === "empty")).toHaveLength(20);
    // One checkpoint for batch 1, one for batch 2 (taken when batch 1's was written), none for the empty pulls.
    expect(store.saved.map((s) => s.position)).toEqual([1, 2]);
  });
});

describe("when a due checkpoint is taken", () => {
  /**
   * Batches of one event every 100 ms (the worker's clock); batch i raises `alerts(i)` new
   * alerts. Returns the positions checkpointed.
   */
  async function checkpointsAt(o: { batches: number; alerts: (i: number) => number; intervalMs: number; deferMs?: number }): Promise<number[]> {
    const pack = loadPack([{ path: "t.vigil", text: RULE }]);
    const engine = new Engine(pack, { onAlert: () => undefined, now: () => T0 });
    let clock = 0;
    let i = 0;
    const source: EventSource = {
      name: "script",
      start: () => Promise.resolve(),
      next: async () => {
        await tick();
        if (i >= o.batches) return undefined;
        i++;
        clock = i * 100;
        const ev: EngineEvent = { id: `e${i}`, ts: T0 + i, seq: i, fields: { outcome: "failure", ip: `ip${i}` }, source: "s", position: i };
        return { events: [ev], dead: [], position: i, units: 1, ack: () => undefined };
      },
      close: () => Promise.resolve(),
    };
    const saved: number[] = [];
    let taken = 0;
    await runWorker({
      engine,
      source,
      sinks: [],
      deadLetters: { deadLetter: () => Promise.resolve() },
      checkpoints: {
        load: () => Promise.resolve(undefined),
        save: (cp) => {
          saved.push(cp.position);
          return Promise.resolve();
        },
      },
      checkpointIntervalMs: o.intervalMs,
      checkpointDeferMs: o.deferMs,
      maxPendingUnits: 1000,
      signal: new AbortController().signal,
      // Batch i's new alerts, as the engine's collector would hand them over (once).
      takeAlerts: () => {
        if (taken === i) return { fresh: [], updated: [] };
        taken = i;
        return { fresh: Array.from({ length: o.alerts(i) }, (_, k) => ({ id: `a${i}.${k}` }) as Alert), updated: [] };
      },
      now: () => clock,
      log: () => undefined,
    });
    return saved;
  }

  test("a checkpoint due during a burst of alerts waits for its end", async () => {
    // Due at 1 s (batch 10); 5 alerts a batch from 0.8 s to 1.4 s: 10 and more within 250 ms until batch 15.
    expect(await checkpointsAt({ batches: 30, alerts: (i) => (i >= 8 && i <= 14 ? 5 : 0), intervalMs: 1000, deferMs: 1000 })).toEqual([16, 26, 30]);
  });

  test("…by at most checkpointDeferMs; a steady rate is no burst once an interval has shown it; 0 does not wait", async () => {
    // The first interval has no rate to go by: 15 alerts in 250 ms is a burst, until the deadline (2 s).
    // Then 50 alerts a second are the rate: 15 in 250 ms is under twice that.
    expect(await checkpointsAt({ batches: 40, alerts: () => 5, intervalMs: 1000, deferMs: 1000 })).toEqual([20, 30, 40]);
    expect(await checkpointsAt({ batches: 40, alerts: () => 5, intervalMs: 1000, deferMs: 0 })).toEqual([10, 20, 30, 40]);
    // By default, half the interval.
    expect(await checkpointsAt({ batches: 40, alerts: () => 5, intervalMs: 1000 })).toEqual([15, 25, 35, 40]);
    // Twice the rate is a burst again.
    expect(await checkpointsAt({ batches: 40, alerts: (i) => (i >= 28 && i <= 32 ? 15 : 5), intervalMs: 1000, deferMs: 1000 })).toEqual([20, 35, 40]);
  });
});

test("a source with a backlog does not starve the event loop: the loop gives it a turn at least every 10 ms of work", async () => {
  const pack = loadPack([{ path: "t.vigil", text: RULE }]);
  const engine = new Engine(pack, { onAlert: () => undefined, now: () => T0 });
  let i = 0;
  const source: EventSource = {
    name: "backlog",
    start: () => Promise.resolve(),
    // Always something there: resolves at once, as JetStreamSource does from its buffer.
    next: () => {
      if (i >= 40) return Promise.resolve(undefined);
      i++;
      const ev: EngineEvent = { id: `e${i}`, ts: T0 + i, seq: i, fields: { outcome: "failure", ip: `ip${i}` }, source: "s", position: i };
      return Promise.resolve({ events: [ev], dead: [], position: i, units: 1, ack: () => undefined });
    },
    close: () => Promise.resolve(),
  };
  let batchesAtTimer = -1;
  setTimeout(() => (batchesAtTimer = i), 0);
  await runWorker({
    engine,
    source,
    sinks: [],
    deadLetters: { deadLetter: () => Promise.resolve() },
    checkpointIntervalMs: 60_000,
    maxPendingUnits: 1000,
    signal: new AbortController().signal,
    takeAlerts: () => {
      // 2 ms of work a batch.
      const until = performance.now() + 2;
      while (performance.now() < until);
      return { fresh: [], updated: [] };
    },
    log: () => undefined,
  });
  expect(batchesAtTimer).toBeGreaterThan(0);
  expect(batchesAtTimer).toBeLessThan(20);
});
