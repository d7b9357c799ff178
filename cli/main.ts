import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { registerAnomaly } from "./commands/anomaly-cli.js";
import type { ConfigValue } from "./config.js";
import { type Io, processIo } from "./io.js";
import { parseDuration } from "./duration.js";
import { isPathProblem, readProblem } from "./fs-problem.js";
import { zoneProblem } from "./zone-check.js";
import type { DecoderFormat } from "../connectors/parsers/index.js";
import type { Topology } from "../connectors/nats/topology.js";

// Each command's module is imported when the command runs: a replay does not load the
// server, store, NATS or YAML code (start-up was ~0.5 s with everything loaded).

function parseYear(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1970 || n > 9999) throw new InvalidArgumentError("expected a year like 2024");
  return n;
}

/** Stream and subject names from the environment (VIGIL_NATS_PREFIX isolates tests and tenants). */
async function topologyFromEnv(): Promise<Topology> {
  const { DEFAULT_TOPOLOGY, topologyForPrefix } = await import("../connectors/nats/topology.js");
  const prefix = process.env.VIGIL_NATS_PREFIX;
  return prefix === undefined || prefix === "" ? DEFAULT_TOPOLOGY : topologyForPrefix(prefix);
}

function parseZone(v: string): string {
  const problem = zoneProblem(v);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return v;
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
}

/** A whole number of at least 1 (the same range as the setting in the configuration file). */
function parsePositive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

/** A duration: milliseconds, or with a unit as in the configuration file (`5s`, `1m`); at least `min` ms. */
function durationFlag(min: number): (v: string) => number {
  return (v) => {
    const n = /^\d+$/.test(v) ? Number(v) : parseDuration(v);
    if (n === undefined || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a duration of at least ${min} ms, such as 5000 (milliseconds), 5s or 1m`);
    return n;
  };
}

/** Builds the CLI. Returns the process exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code = 0;
  const program = new Command()
    .name("vigil")
    .description("Vigil: security detection and response — correlation rules over security events")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command("replay")
    .description("backtest: run a rule pack over log files in event time; print alerts as JSON lines (never acts)")
    .argument("<file...>", "log files (syslog/sshd or JSON lines); - for stdin")
    .option("-r, --rules <dir>", "rule pack directory (default: ./rules, else the shipped pack)")
    .addOption(new Option("-f, --format <format>", "input format").choices(["auto", "json", "sshd", "syslog", "access", "api"]).default("auto"))
    .option("--year <yyyy>", "year of syslog timestamps (default: inferred)", parseYear)
    .option("--tz <zone>", "time zone of syslog timestamps (IANA name)", parseZone, "UTC")
    .option("--show-failures <n>", "undecodable lines to show per reason (all are counted)", parseCount, 5)
    .option("--policy <file>", "security-policies.yaml: its values become the packs' parameters")
    .addOption(
      new Option("--decode-thread <mode>", "read and decode the files on a second thread (auto: for 8 MiB or more of files, on 2+ CPUs)")
        .choices(["auto", "on", "off"])
        .default("auto"),
    )
    .action(
      async (files: string[], o: { rules?: string; policy?: string; format: DecoderFormat; year?: number; tz: string; showFailures: number; decodeThread: "auto" | "on" | "off" }) => {
        const { runReplay } = await import("./commands/replay.js");
        const opts = { rules: o.rules, policy: o.policy, format: o.format, year: o.year, tz: o.tz, showFailures: o.showFailures, decodeThread: o.decodeThread };
        code = await runReplay(files, opts, io);
      },
    );

  program
    .command("check")
    .description("parse and check a rule pack; print each problem as file:line:col with the line and a caret")
    .argument("[path...]", "rule files or directories (default: ./rules, else the shipped pack)")
    .option("-q, --quiet", "print only the problems")
    .option("--schema <file>", "field schema (one field path a line, or a JSON array): unknown fields are warned about")
    .action(async (paths: string[], o: { quiet?: boolean; schema?: string }) => {
      const { runCheck } = await import("./commands/check.js");
      code = runCheck(paths, o, io);
    });

  program
    .command("test")
    .description("run the rules' example tests (*.tests.yaml beside the packs); print a result per rule and a coverage table; exit 1 on any failure")
    .argument("[path...]", "rule directories, .vigil files or .tests.yaml files (default: ./rules, else the shipped pack)")
    .option("--properties", "also run the property-based tests of each rule's correlation kind (fast-check)")
    .option("--runs <n>", "fast-check runs per property", parseCount, 100)
    .option("--seed <n>", "fast-check seed (default 42: reproducible)", parseCount)
    .option("--strict", "every rule must have a positive and a negative example")
    .option("--policy <file>", "security-policies.yaml: its values become the packs' parameters")
    .action(async (paths: string[], o: { properties?: boolean; runs: number; seed?: number; strict?: boolean; policy?: string }) => {
      const { runTest } = await import("./commands/test.js");
      code = runTest(paths, o, io);
    });

  program
    .command("fmt")
    .description("rewrite .vigil files in canonical form, comments kept; files with syntax errors are reported and left untouched")
    .argument("<path...>", "rule files or directories")
    .option("--check", "write nothing: list the files that would change, exit 1 if any")
    .action(async (paths: string[], o: { check?: boolean }) => {
      const { runFmt } = await import("./commands/fmt.js");
      code = runFmt(paths, o, io);
    });

  const formatOption = () => new Option("-f, --format <format>", "input format").choices(["auto", "json", "sshd", "syslog", "access", "api"]).default("auto");
  type InputOpts = { format: DecoderFormat; year?: number; tz: string };

  program
    .command("run")
    .description("the main job: consume security events from NATS JetStream (NATS_URL), or on the embedded default from --input files or stdin; print alerts as JSON lines")
    .option("-c, --config <file>", "YAML configuration file (default: $VIGIL_CONFIG); environment variables and flags override it")
    .option("-r, --rules <dir>", "rule pack directory (default: ./rules, else the shipped pack)")
    .option("-i, --input <file...>", "embedded default: log or event files to read (- for stdin)")
    .option("-F, --follow", "embedded default: follow the input files like tail -F")
    .option("--policy <file>", "security-policies.yaml: its values become the packs' parameters")
    .addOption(new Option("-f, --format <format>", "input format").choices(["auto", "json", "sshd", "syslog", "access", "api"]))
    .option("--year <yyyy>", "year of syslog timestamps (default: inferred)", parseYear)
    .option("--tz <zone>", "time zone of syslog timestamps (IANA name)", parseZone)
    .option("--nats-url <url>", "NATS server (default: $NATS_URL; without one, the embedded default)")
    .option("--batch <n>", "messages per fetch from JetStream", parsePositive)
    .option("--checkpoint-interval <duration>", "how often engine state is checkpointed and messages acknowledged (ms, or 5s, 1m)", durationFlag(1))
    .option("--max-ack-pending <n>", "most unacknowledged messages in flight", parsePositive)
    .option("--shutdown-timeout <duration>", "on SIGTERM: time allowed to drain before exiting with status 1 (ms, or 10s)", durationFlag(1))
    .option("--stop-when-idle <duration>", "stop once the stream has been idle this long (tests, benchmarks; ms, or 2s)", durationFlag(0))
    .action(
      async (o: {
        config?: string;
        rules?: string;
        policy?: string;
        input?: string[];
        follow?: boolean;
        format?: string;
        year?: number;
        tz?: string;
        natsUrl?: string;
        batch?: number;
        checkpointInterval?: number;
        maxAckPending?: number;
        shutdownTimeout?: number;
        stopWhenIdle?: number;
      }) => {
        const flags = new Map<string, ConfigValue | undefined>([
          ["rules", o.rules],
          ["policy", o.policy],
          ["input.files", o.input],
          ["input.follow", o.follow],
          ["input.format", o.format],
          ["input.year", o.year],
          ["input.tz", o.tz],
          ["nats.url", o.natsUrl],
          ["nats.batch", o.batch],
          ["nats.checkpoint_interval", o.checkpointInterval],
          ["nats.max_ack_pending", o.maxAckPending],
          ["shutdown_timeout", o.shutdownTimeout],
        ]);
        const { formatConfigError, resolveConfig } = await import("./config.js");
        const { runMain } = await import("./commands/run.js");
        const file = o.config ?? (process.env.VIGIL_CONFIG === "" ? undefined : process.env.VIGIL_CONFIG);
        const { config, errors } = resolveConfig({ file, env: process.env, flags });
        for (const e of errors) io.err(formatConfigError(e));
        if (errors.length > 0) {
          code = 2;
          return;
        }
        code = await runMain(config, io, { stopWhenIdleMs: o.stopWhenIdle });
      },
    );

  program
    .command("config")
    .description("check the configuration vigil run would use (file, environment) and print each setting's value; --settings lists every setting")
    .option("-c, --config <file>", "YAML configuration file (default: $VIGIL_CONFIG)")
    .option("--settings", "print the table of every setting (YAML path, environment variable, default, meaning)")
    .action(async (o: { config?: string; settings?: boolean }) => {
      const { resolveConfig } = await import("./config.js");
      const { runConfig } = await import("./commands/config.js");
      const file = o.config ?? (process.env.VIGIL_CONFIG === "" ? undefined : process.env.VIGIL_CONFIG);
      code = runConfig(o, resolveConfig({ file, env: process.env, flags: new Map() }), io);
    });

  program
    .command("publish")
    .description("send log or event files into JetStream (security.events.<service>.<category>), with the event ids replay computes as message ids")
    .argument("<file...>", "log or event files; - for stdin")
    .option("--nats-url <url>", "NATS server (default: $NATS_URL, else nats://127.0.0.1:4222)")
    .option("-s, --subject <subject>", "one subject for every event (default: by service.name and event.category)")
    .addOption(formatOption())
    .option("--year <yyyy>", "year of syslog timestamps (default: inferred)", parseYear)
    .option("--tz <zone>", "time zone of syslog timestamps (IANA name)", parseZone, "UTC")
    .option("--rate <n>", "events per second (0: as fast as acknowledged)", parseCount, 0)
    .action(async (files: string[], o: InputOpts & { natsUrl?: string; subject?: string; rate: number }) => {
      const { runPublish } = await import("./commands/publish.js");
      code = await runPublish(
        files,
        { natsUrl: o.natsUrl ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222", subject: o.subject, format: o.format, year: o.year, tz: o.tz, rate: o.rate, topology: await topologyFromEnv() },
        io,
      );
    });

  registerAnomaly(program, io, (c) => (code = c));

  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof RangeError) {
      io.err(`vigil: ${err.message}`);
      return 2;
    }
    // A path on the command line that cannot be read (rules, schema, policy): say which, no stack.
    if (isPathProblem(err)) {
      io.err(`vigil: cannot read ${err.path}: ${readProblem(err)}`);
      return 2;
    }
    throw err;
  }
  return code;
}
