import type { DecoderFormat } from "../connectors/parsers/index.js";
import { type LineFailure, type LogReadStats, readLogEvents } from "../connectors/sources/log-file.js";
import { type CompiledPack, formatDiagnostic, loadPack } from "../dsl/index.js";
import type { Engine, EngineEvent } from "../engine/index.js";
import { type DecodeThread, type PassedEvent, ThreadedReadError } from "../connectors/sources/threaded-log-file.js";
import { compilePackInput, type PackInput } from "../connectors/sources/pack-filter.js";
import { readProblem } from "./fs-problem.js";
import type { Io } from "./io.js";
import { collectPackFiles, defaultRulesPath } from "./pack-files.js";
import type { PolicyParams } from "./policy.js";

/**
 * Loads the pack (with the policy file's values as parameters, when one is given), printing its
 * diagnostics; undefined (reported) when the policy is unusable or no rule loaded. The policy
 * module (and its YAML parser) is loaded only when there is a policy file.
 */
export async function loadRulesOrReport(rules: string | undefined, io: Io, what: string, policy?: string): Promise<CompiledPack | undefined> {
  let params: PolicyParams | undefined;
  try {
    params = policy === undefined ? undefined : (await import("./policy.js")).loadPolicyFile(policy);
  } catch (e) {
    io.err((e as Error).message);
    return undefined;
  }
  return reportPack(loadPack(collectPackFiles([defaultRulesPath(rules)]), { params }), io, what);
}

/**
 * The pack's files and the policy's parameters, read once, for {@link loadInputOrReport} and
 * a decoding thread that compiles the same pack; undefined when either cannot be read (then
 * {@link loadRulesOrReport} reads and reports as usual).
 */
export async function readPackInput(rules: string | undefined, policy: string | undefined): Promise<PackInput | undefined> {
  try {
    const params = policy === undefined ? undefined : (await import("./policy.js")).loadPolicyFile(policy);
    return { files: collectPackFiles([defaultRulesPath(rules)]), params };
  } catch {
    return undefined;
  }
}

/** {@link loadRulesOrReport} of a pack already read, with the digest of what it was compiled from. */
export function loadInputOrReport(input: PackInput, io: Io, what: string): { readonly pack: CompiledPack; readonly digest: string } | undefined {
  const { pack, digest } = compilePackInput(input);
  return reportPack(pack, io, what) === undefined ? undefined : { pack, digest };
}

/** Prints a pack's diagnostics; undefined (reported) when no rule loaded. */
function reportPack(pack: CompiledPack, io: Io, what: string): CompiledPack | undefined {
  for (const d of pack.diagnostics) io.err(formatDiagnostic(d));
  if (pack.rules.length === 0) {
    io.err(`no rule loaded: nothing to ${what}`);
    return undefined;
  }
  return pack;
}

export interface FeedOptions {
  readonly format: DecoderFormat;
  readonly year?: number;
  readonly tz?: string;
  /**
   * A thread already reading and decoding these files (the events reach the engine in the
   * same order, with the same ids); only for files, not stdin.
   */
  readonly decodeThread?: DecodeThread;
}

/**
 * Feeds log files (`-` for stdin) through the engine in order, `seq` continuing across files.
 * Undecodable lines and refused events go to the callbacks; an unreadable file is reported
 * and ends the feed (returns false).
 */
export async function feedFiles(
  engine: Engine,
  files: readonly string[],
  opts: FeedOptions,
  onFailure: (f: LineFailure) => void,
  onRefused: (f: LineFailure) => void,
  stats: LogReadStats,
  io: Io,
): Promise<boolean> {
  const onEvent = (ev: EngineEvent): void => {
    const r = engine.process(ev);
    if (!r.accepted) onRefused({ source: ev.source ?? ev.id, line: ev.position ?? 0, reason: r.reason, message: r.message });
  };
  // Events no rule can act on (see DecodeThread.usePack): by their time alone.
  const onPass = (ev: PassedEvent): void => {
    const r = engine.pass(ev.ts);
    if (!r.accepted) onRefused({ source: ev.source, line: ev.position, reason: r.reason, message: r.message });
  };
  if (opts.decodeThread !== undefined) {
    try {
      const r = await opts.decodeThread.read(0, onEvent, onFailure, stats, onPass);
      if (r.unreadable === undefined) return true;
      io.err(`cannot read ${r.unreadable.file}: ${readProblem(new Error(r.unreadable.message))}`);
    } catch (err) {
      io.err(`cannot read ${err instanceof ThreadedReadError ? err.file : (files[0] ?? "")}: ${readProblem(err)}`);
    }
    return false;
  }
  let seq = 0;
  for (const file of files) {
    try {
      seq = await readLogEvents(
        file,
        opts,
        seq,
        onEvent,
        onFailure,
        stats,
      );
    } catch (err) {
      io.err(`cannot read ${file}: ${readProblem(err)}`);
      return false;
    }
  }
  return true;
}
