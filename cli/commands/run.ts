import { connect } from "@nats-io/transport-node";
import { runJetStream } from "../../connectors/nats/runner.js";
import { DEFAULT_TOPOLOGY, type Topology } from "../../connectors/nats/topology.js";
import type { DecoderFormat } from "../../connectors/parsers/index.js";
import type { LogReadStats } from "../../connectors/sources/log-file.js";
import { alertRecord } from "../../engine/alert-record.js";
import { type Alert, Engine } from "../../engine/index.js";
import { feedFiles, loadRulesOrReport } from "../feed.js";
import type { Io } from "../io.js";

export interface RunOptions {
  readonly rules?: string;
  /** security-policies.yaml: its values override the pack's parameters. */
  readonly policy?: string;
  /** NATS server; without it, the embedded default (files, stdin). */
  readonly natsUrl?: string;
  readonly inputs: readonly string[];
  readonly format: DecoderFormat;
  readonly year?: number;
  readonly tz?: string;
  readonly batchSize: number;
  readonly checkpointIntervalMs: number;
  readonly maxAckPending: number;
  readonly topology?: Topology;
  /** Stop after this long (ms); for tests and benchmarks. Default: until SIGTERM/SIGINT. */
  readonly stopAfterMs?: number;
  /** Stop once the stream has been idle this long (ms) after having processed something. */
  readonly stopWhenIdleMs?: number;
}

function log(io: Io, msg: string, fields: Record<string, unknown> = {}): void {
  io.err(JSON.stringify({ level: "info", time: new Date().toISOString(), msg, ...fields }));
}

/**
 * `vigil run`, the main job. With a NATS URL: consume `security.events.>` from JetStream,
 * effectively-once (see connectors/nats/runner.ts). Without: the embedded default, the same
 * engine fed by files and stdin, alerts printed as JSON lines as they fire.
 */
export async function runMain(o: RunOptions, io: Io): Promise<number> {
  const pack = loadRulesOrReport(o.rules, io, "run", o.policy);
  if (pack === undefined) return 1;
  const out = (a: Alert) => io.out(JSON.stringify(alertRecord(a)));
  const outUpdate = (a: Alert) => io.out(JSON.stringify({ type: "alert_update", id: a.id, suppressed: a.suppressed }));

  if (o.natsUrl === undefined) {
    const engine = new Engine(pack, { onAlert: out, onAlertUpdate: outUpdate });
    for (const u of engine.unsupported) io.err(`rule ${u.rule} is not run: ${u.reason}`);
    const stats: LogReadStats = { lines: 0, events: 0, failures: new Map() };
    const report = (f: { source: string; line: number; reason: string; message: string }) => io.err(`${f.source}:${f.line}: ${f.reason}: ${f.message}`);
    if (!(await feedFiles(engine, o.inputs.length > 0 ? o.inputs : ["-"], o, report, report, stats, io))) return 1;
    engine.finish();
    log(io, "inputs ended", { lines: stats.lines, events: stats.events, undecodable: Object.fromEntries(stats.failures) });
    return 0;
  }

  const nc = await connect({ servers: o.natsUrl, name: "vigil run" });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  const timer = o.stopAfterMs === undefined ? undefined : setTimeout(stop, o.stopAfterMs);
  try {
    const stats = await runJetStream({
      nc,
      topology: o.topology ?? DEFAULT_TOPOLOGY,
      makeEngine: (onAlert, onAlertUpdate) => {
        const engine = new Engine(pack, {
          onAlert: (a) => {
            onAlert(a);
            out(a);
          },
          onAlertUpdate: (a) => {
            onAlertUpdate(a);
            outUpdate(a);
          },
        });
        for (const u of engine.unsupported) io.err(`rule ${u.rule} is not run: ${u.reason}`);
        return engine;
      },
      batchSize: o.batchSize,
      maxAckPending: o.maxAckPending,
      checkpointIntervalMs: o.checkpointIntervalMs,
      signal: controller.signal,
      idleStopMs: o.stopWhenIdleMs,
      log: (msg, fields) => log(io, msg, fields),
    });
    return stats.messages >= 0 ? 0 : 1;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await nc.drain();
  }
}
