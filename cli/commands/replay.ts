import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { type Alert, Engine } from "../../engine/index.js";
import { alertRecord } from "../../engine/alert-record.js";
import type { DecoderFormat } from "../../connectors/parsers/index.js";
import { TARGET_PARAM, canonicalIp, textArg } from "../../connectors/responders/args.js";
import type { LineFailure, LogReadStats } from "../../connectors/sources/log-file.js";
import { DecodeThread } from "../../connectors/sources/threaded-log-file.js";
import type { PackInput } from "../../connectors/sources/pack-filter.js";
import type { CompiledPack } from "../../dsl/index.js";
import { feedFiles, loadInputOrReport, loadRulesOrReport, readPackInput } from "../feed.js";
import type { Io } from "../io.js";

export interface ReplayOptions {
  readonly rules?: string;
  /** security-policies.yaml: its values override the pack's parameters. */
  readonly policy?: string;
  readonly format: DecoderFormat;
  readonly year?: number;
  readonly tz?: string;
  /** How many failing lines to show per reason (they are all counted). */
  readonly showFailures: number;
  /**
   * Read and decode the files on a second thread ("auto", the default: when they hold 8 MiB
   * or more and the machine has more than one CPU). The output is the same either way.
   */
  readonly decodeThread?: "auto" | "on" | "off";
  /** Wall clock, for tests. */
  readonly now?: () => number;
}

/** Below this much input a second thread's start-up is not worth it. */
const THREAD_MIN_BYTES = 8 << 20;
/**
 * With two CPUs or more. The thread costs ~20% more CPU time in all; on the 1M-line bench on a
 * shared 2-CPU machine it was faster in 13 of 20 interleaved pairs (by ~20% when a core was
 * free), slower in 7 (by up to 15%). The 1-minute load average did not tell the two apart.
 */
function useDecodeThread(files: readonly string[], mode: ReplayOptions["decodeThread"]): boolean {
  if (mode === "off" || files.includes("-")) return false;
  if (mode === "on") return true;
  if (availableParallelism() < 2) return false;
  let bytes = 0;
  for (const f of files) {
    try {
      bytes += statSync(f).size;
    } catch {
      return false; // reported when it is read
    }
  }
  return bytes >= THREAD_MIN_BYTES;
}

/**
 * `vigil replay`: a backtest. Runs a pack over log files in event time and prints each
 * alert as a JSON line, with the actions it would take (replay never acts). Alerts are
 * printed at the end so that hits suppressed after an alert are counted on it.
 */
export async function runReplay(files: readonly string[], opts: ReplayOptions, io: Io): Promise<number> {
  // Started first: the thread loads and reads ahead while the rules compile.
  // The pack is read first, so that the thread compiles the same (see DecodeThread.usePack).
  const threaded = useDecodeThread(files, opts.decodeThread);
  const input = threaded ? await readPackInput(opts.rules, opts.policy) : undefined;
  const decodeThread = threaded ? new DecodeThread(files, opts, input) : undefined;
  try {
    return await replayWith(decodeThread, input, files, opts, io);
  } finally {
    decodeThread?.stop(); // it would keep the process alive
  }
}

async function replayWith(decodeThread: DecodeThread | undefined, input: PackInput | undefined, files: readonly string[], opts: ReplayOptions, io: Io): Promise<number> {
  let pack: CompiledPack | undefined;
  if (input === undefined) pack = await loadRulesOrReport(opts.rules, io, "replay", opts.policy);
  else {
    const loaded = loadInputOrReport(input, io, "replay");
    if (loaded !== undefined) decodeThread?.usePack(loaded.digest);
    pack = loaded?.pack;
  }
  if (pack === undefined) return 1;
  const alerts: Alert[] = [];
  const engine = new Engine(pack, { onAlert: (a) => alerts.push(a), now: opts.now });
  for (const u of engine.unsupported) io.err(`rule ${u.rule} is not run: ${u.reason}`);
  const stats: LogReadStats = { lines: 0, events: 0, failures: new Map() };
  const shown = new Map<string, number>();
  const refused: LineFailure[] = [];
  const onFailure = (f: LineFailure) => {
    const n = shown.get(f.reason) ?? 0;
    shown.set(f.reason, n + 1);
    if (n < opts.showFailures) io.err(`${f.source}:${f.line}: ${f.reason}: ${f.message}`);
  };
  if (!(await feedFiles(engine, files, { ...opts, decodeThread }, onFailure, (r) => refused.push(r), stats, io))) return 1;
  engine.finish();
  const wouldSkip = new Map<string, number>();
  printAlerts(alerts, io, wouldSkip);
  for (const r of refused.slice(0, opts.showFailures)) io.err(`${r.source}:${r.line}: ${r.reason}: ${r.message}`);

  const byRule = new Map<string, number>();
  for (const a of alerts) byRule.set(a.rule, (byRule.get(a.rule) ?? 0) + 1);
  const failures = [...stats.failures].map(([r, n]) => `${r} ${n}`).join(", ");
  io.err(
    [
      `replay: ${stats.lines} lines, ${stats.events} events, ${sum(stats.failures)} undecodable lines${failures === "" ? "" : ` (${failures})`}` +
        `, ${engine.stats.late} late, ${engine.stats.refused} refused`,
      `alerts: ${alerts.length}${[...byRule].map(([r, n]) => `\n  ${r}: ${n}`).join("")}`,
      ...(wouldSkip.size === 0 ? [] : [`actions vigil run would skip: ${[...wouldSkip].map(([k, n]) => `${k} ${n}`).join(", ")}`]),
    ].join("\n"),
  );
  // Lines were read and none became an event: most likely the wrong --format; say so, fail.
  const undecodable = sum(stats.failures) - (stats.failures.get("empty_line") ?? 0);
  if (stats.events === 0 && undecodable > 0) {
    io.err(`vigil replay: none of the ${undecodable} non-blank lines could be decoded as ${opts.format}: check --format (auto, json, sshd, syslog, access, api)`);
    return 1;
  }
  return 0;
}

/**
 * An alert's record as replay prints it: an action that `vigil run` would skip for want of its
 * target (a `block_ip` whose event had a host name, not an address) says so under `skip`.
 */
function replayRecord(a: Alert, skipped: Map<string, number>): Record<string, unknown> {
  const record = alertRecord(a);
  if (!a.actions.some((x) => whyNoTarget(x.action, x.args) !== undefined)) return record;
  record.would_act = a.actions.map((x) => {
    const skip = whyNoTarget(x.action, x.args);
    if (skip === undefined) return x;
    const label = `${x.action} (${skip})`;
    skipped.set(label, (skipped.get(label) ?? 0) + 1);
    return { ...x, skip };
  });
  return record;
}

function whyNoTarget(action: string, args: Readonly<Record<string, unknown>>): string | undefined {
  const param = TARGET_PARAM[action];
  if (param === undefined) return undefined;
  const target = textArg(args, param);
  if (target === undefined) return `missing ${param}`;
  if (param === "ip" && canonicalIp(target) === undefined) return "not an address";
  return undefined;
}

/** One JSON line per alert, written in blocks of lines (a write per alert costs more than its JSON on a large replay). */
function printAlerts(alerts: readonly Alert[], io: Io, skipped: Map<string, number>): void {
  if (io.outMany === undefined) {
    for (const a of alerts) io.out(JSON.stringify(replayRecord(a, skipped)));
    return;
  }
  const block: string[] = [];
  for (const a of alerts) {
    block.push(JSON.stringify(replayRecord(a, skipped)));
    if (block.length === 64) {
      io.outMany(block);
      block.length = 0;
    }
  }
  io.outMany(block);
}

function sum(m: Map<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}

export { alertRecord } from "../../engine/alert-record.js";
