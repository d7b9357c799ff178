/**
 * `vigil run` on JetStream: throughput against a bare consumer of the same stream that
 * fetches and acknowledges the same way and does nothing else, and the latency from
 * publish to alert at a fixed rate. Needs the NATS server (NATS_URL, else :4222); every
 * stream it makes is under a unique prefix and deleted afterwards. `--js-events 0` runs the
 * latency part only; VIGIL_BENCH_TRACE=1 also prints, in time, the loop's stalls over 60 ms,
 * GC pauses over 20 ms, the checkpoints' snapshots and the alerts later than 100 ms.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay, performance, PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeMessage } from "../connectors/nats/decode.js";
import { EventPublisher } from "../connectors/nats/publish.js";
import { runJetStream } from "../connectors/nats/runner.js";
import { topologyForPrefix, type Topology } from "../connectors/nats/topology.js";
import { type LogReadStats, readLogEvents } from "../connectors/sources/log-file.js";
import { loadPack } from "../dsl/index.js";
import { Engine, type EngineEvent } from "../engine/index.js";
import { SETTINGS } from "../cli/config.js";
import { collectPackFiles } from "../cli/pack-files.js";
import { fmtRate, fmtRatio, printTable } from "./table.js";

interface Generator {
  generateAuthLog(out: string, opts: { lines: number; seed: number }): { lines: number };
}

// What `vigil run` runs with unless configured otherwise.
const setting = (path: string): number => SETTINGS.find((x) => x.path === path)!.default as number;
const BATCH = setting("nats.batch");
const MAX_ACK_PENDING = setting("nats.max_ack_pending");
const CHECKPOINT_INTERVAL_MS = setting("nats.checkpoint_interval");

async function cleanup(nc: NatsConnection, t: Topology): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const s of [t.eventsStream, t.alertsStream, t.deadLetterStream]) await jsm.streams.delete(s).catch(() => undefined);
  await (await new Kvm(nc).open(t.checkpointBucket).catch(() => undefined))?.destroy().catch(() => undefined);
}

type BareMode = "ack-all" | "decode" | "ack-each";

/**
 * Pulls every message of the stream as `vigil run` does and acknowledges them a batch at a
 * time as it does (AckPolicy.All: the batch's last message), doing nothing else: the baseline.
 * For context, two variants: `decode` also decodes each message into events as `vigil run`
 * does (the floor of any consumer that reads the events); `ack-each` acknowledges every
 * message (AckPolicy.Explicit, Vigil's scheme before cumulative acks).
 */
async function bareConsumer(nc: NatsConnection, t: Topology, total: number, name: string, mode: BareMode): Promise<number> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(t.eventsStream, { durable_name: name, ack_policy: mode === "ack-each" ? AckPolicy.Explicit : AckPolicy.All, max_ack_pending: MAX_ACK_PENDING });
  const consumer = await jetstream(nc).consumers.get(t.eventsStream, name);
  const t0 = performance.now();
  let n = 0;
  let decoded = 0;
  const iter = await consumer.consume({ max_messages: BATCH * 2 });
  let batch = [];
  for await (const m of iter) {
    batch.push(m);
    n++;
    if (mode === "decode") decoded += decodeMessage(m.data, m.subject, m.seq).events.length;
    if (batch.length === BATCH || n >= total) {
      if (mode === "ack-each") for (const x of batch) x.ack();
      else batch[batch.length - 1]!.ack();
      batch = [];
    }
    if (n >= total) break;
  }
  if (mode === "decode" && decoded < total) throw new Error(`bare consumer decoded ${decoded} of ${total} events`);
  await iter.close();
  const s = (performance.now() - t0) / 1000;
  await jsm.consumers.delete(t.eventsStream, name);
  return s;
}

async function vigilRun(nc: NatsConnection, t: Topology, rulesDir: string, total: number, consumer: string): Promise<{ seconds: number; alerts: number }> {
  const pack = loadPack(collectPackFiles([rulesDir]));
  const ctl = new AbortController();
  let events = 0;
  const t0 = performance.now();
  const stats = await runJetStream({
    nc,
    topology: { ...t, consumer },
    makeEngine: (onAlert, onAlertUpdate) => new Engine(pack, { onAlert, onAlertUpdate }),
    batchSize: BATCH,
    maxAckPending: MAX_ACK_PENDING,
    checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
    signal: ctl.signal,
    observer: {
      batch: (n) => {
        events += n;
        if (events >= total) ctl.abort();
      },
    },
    log: () => undefined,
  });
  return { seconds: (performance.now() - t0) / 1000, alerts: stats.alerts };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latency(nc: NatsConnection, root: string, url: string, rulesDir: string, rate: number, seconds: number): Promise<string[][]> {
  const t = topologyForPrefix(`bench_lat_${process.pid}`);
  try {
    const pack = loadPack(collectPackFiles([rulesDir]));
    const ctl = new AbortController();
    const alertLat: number[] = [];
    const snapshotMs: number[] = [];
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    // VIGIL_BENCH_TRACE=1: every stall of the loop over 50 ms, with the GC pauses and snapshots in it.
    const trace = process.env.VIGIL_BENCH_TRACE === "1";
    const marks: string[] = [];
    const tBase = performance.now();
    const at = () => Math.round(performance.now() - tBase);
    let lastTick = performance.now();
    const ticker = trace
      ? setInterval(() => {
          const d = performance.now() - lastTick;
          if (d > 60) marks.push(`${at()} stall ${Math.round(d - 10)} ms`);
          lastTick = performance.now();
        }, 10)
      : undefined;
    const gcObs = trace
      ? new PerformanceObserver((l) => {
          for (const e of l.getEntries()) if (e.duration > 20) marks.push(`${Math.round(e.startTime - tBase)} gc ${((e as { detail?: { kind?: number } }).detail?.kind ?? "?")} ${Math.round(e.duration)} ms`);
        })
      : undefined;
    gcObs?.observe({ entryTypes: ["gc"] });
    const eventLat: number[] = [];
    const running = runJetStream({
      nc,
      topology: t,
      makeEngine: (onAlert, onAlertUpdate) => new Engine(pack, { onAlert, onAlertUpdate }),
      batchSize: BATCH,
      maxAckPending: MAX_ACK_PENDING,
      checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
      signal: ctl.signal,
      observer: {
        snapshot: (ms) => {
          snapshotMs.push(ms);
          if (trace) marks.push(`${at()} snapshot ${Math.round(ms)} ms`);
        },
        // Called once the batch's alerts are durable in JetStream: publish → alert.
        alerts: (as) => {
          const now = Date.now();
          let late = 0;
          let worst = 0;
          for (const a of as) {
            const ms = now - Date.parse(a.last_event_at);
            alertLat.push(ms);
            if (ms > 100) late++;
            worst = Math.max(worst, ms);
          }
          if (trace && late > 0) marks.push(`${at()} ${late} alerts over 100 ms (worst ${worst} ms)`);
        },
        events: (evs: readonly EngineEvent[]) => {
          const now = Date.now();
          for (let i = 0; i < evs.length; i += 10) eventLat.push(now - evs[i]!.ts);
        },
      },
      log: () => undefined,
    });
    await new Promise((r) => setTimeout(r, 1500)); // provisioned, consumer waiting
    const pub = await new Promise<{ sent: number; seconds: number }>((resolve, reject) => {
      const p = spawn(process.execPath, [join(root, "dist/bench/jetstream-publisher.js"), url, `${t.eventsSubject}.sshd.authentication`, String(rate), String(seconds)], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      p.stdout.on("data", (b: Buffer) => (out += b.toString()));
      p.on("error", reject);
      p.on("close", (c) => (c === 0 ? resolve(JSON.parse(out) as { sent: number; seconds: number }) : reject(new Error(`publisher exit ${c}`))));
    });
    await new Promise((r) => setTimeout(r, 1500));
    ctl.abort();
    const stats = await running;
    alertLat.sort((a, b) => a - b);
    eventLat.sort((a, b) => a - b);
    loopDelay.disable();
    if (ticker !== undefined) clearInterval(ticker);
    gcObs?.disconnect();
    if (trace) console.log(marks.join("\n"));
    const achieved = pub.sent / pub.seconds;
    const ms = (ns: number) => `${Math.round(ns / 1e6)} ms`;
    console.log(
      `snapshots taken: ${snapshotMs.map((x) => Math.round(x)).join(", ")} ms; event-loop delay p50 ${ms(loopDelay.percentile(50))}, p99 ${ms(loopDelay.percentile(99))}, max ${ms(loopDelay.max)}`,
    );
    return [
      [`publish → alert durable (${alertLat.length} alerts)`, fmtRate(achieved), `${percentile(alertLat, 50)} ms`, `${percentile(alertLat, 99)} ms`, `${alertLat[alertLat.length - 1] ?? NaN} ms`],
      [`publish → event evaluated (every 10th of ${stats.events})`, fmtRate(achieved), `${percentile(eventLat, 50)} ms`, `${percentile(eventLat, 99)} ms`, `${eventLat[eventLat.length - 1] ?? NaN} ms`],
    ];
  } finally {
    await cleanup(nc, t);
  }
}

export async function benchJetStream(root: string, o: { events: number; rate: number; seconds: number }): Promise<void> {
  const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const rulesDir = join(root, "rules");
  const t = topologyForPrefix(`bench_js_${process.pid}`);
  // `--js-events 0`: the latency part only.
  if (o.events > 0) try {
    const dataDir = join(root, "bench/data");
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, `auth-${o.events}.log`);
    const gen = (await import(pathToFileURL(join(root, "bench/gen/gen-auth-log.mjs")).href)) as Generator;
    if (!existsSync(file)) gen.generateAuthLog(file, { lines: o.events, seed: 1 });
    const queue: EngineEvent[] = [];
    const rs: LogReadStats = { lines: 0, events: 0, failures: new Map() };
    await readLogEvents(file, { format: "sshd", year: 2024 }, 0, (ev) => queue.push(ev), () => undefined, rs);
    const pub = new EventPublisher(nc, t, { rate: 0, inflight: 1024 });
    await pub.provision(MAX_ACK_PENDING);
    for (const ev of queue) await pub.publish(ev);
    const total = await pub.flush();

    // Alternate, best of two each: the machine may be busy.
    const bare: Record<BareMode, number[]> = { "ack-all": [], decode: [], "ack-each": [] };
    const vigil: { seconds: number; alerts: number }[] = [];
    for (let round = 0; round < 2; round++) {
      for (const mode of ["ack-all", "decode", "ack-each"] as const) bare[mode].push(await bareConsumer(nc, t, total, `bare_${mode}_${round}`, mode));
      vigil.push(await vigilRun(nc, t, rulesDir, total, `vigil${round}`));
    }
    const bareS = Math.min(...bare["ack-all"]);
    const decodeS = Math.min(...bare.decode);
    const eachS = Math.min(...bare["ack-each"]);
    const best = vigil.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    printTable(
      `JetStream throughput: ${fmtRate(total)} events (${fmtRate(rs.lines)} generated sshd lines as ECS JSON, one a message), batch ${BATCH}, max_ack_pending ${MAX_ACK_PENDING}, checkpoint every ${CHECKPOINT_INTERVAL_MS} ms, best of 2`,
      ["consumer", "events/s", "ratio to bare", "alerts"],
      [
        ["bare consumer (fetch + cumulative ack, as vigil run acks): the baseline", fmtRate(total / bareS), fmtRatio(1), "-"],
        ["  context: bare consumer that also decodes each message", fmtRate(total / decodeS), fmtRatio(bareS / decodeS), "-"],
        ["  context: bare consumer acking every message", fmtRate(total / eachS), fmtRatio(bareS / eachS), "-"],
        ["vigil run (shipped pack)", fmtRate(total / best.seconds), fmtRatio(bareS / best.seconds), String(best.alerts)],
      ],
    );
  } finally {
    await cleanup(nc, t);
  }
  const rows = await latency(nc, root, url, rulesDir, o.rate, o.seconds);
  printTable(`Latency at a fixed rate of ${fmtRate(o.rate)} events/s for ${o.seconds} s (publisher in its own process)`, ["path", "achieved ev/s", "p50", "p99", "max"], rows);
  await nc.close();
}
