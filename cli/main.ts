import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { runCheck } from "./commands/check.js";
import { runFmt } from "./commands/fmt.js";
import { runReplay } from "./commands/replay.js";
import { type Io, processIo } from "./io.js";

function parseYear(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1970 || n > 9999) throw new InvalidArgumentError("expected a year like 2024");
  return n;
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
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
    .addOption(new Option("-f, --format <format>", "input format").choices(["auto", "json", "sshd", "syslog"]).default("auto"))
    .option("--year <yyyy>", "year of syslog timestamps (default: inferred)", parseYear)
    .option("--tz <zone>", "time zone of syslog timestamps (IANA name)", "UTC")
    .option("--show-failures <n>", "undecodable lines to show per reason (all are counted)", parseCount, 5)
    .action(async (files: string[], o: { rules?: string; format: "auto" | "json" | "sshd" | "syslog"; year?: number; tz: string; showFailures: number }) => {
      code = await runReplay(files, { rules: o.rules, format: o.format, year: o.year, tz: o.tz, showFailures: o.showFailures }, io);
    });

  program
    .command("check")
    .description("parse and check a rule pack; print each problem as file:line:col with the line and a caret")
    .argument("[path...]", "rule files or directories (default: ./rules, else the shipped pack)")
    .option("-q, --quiet", "print only the problems")
    .action((paths: string[], o: { quiet?: boolean }) => {
      code = runCheck(paths, o, io);
    });

  program
    .command("fmt")
    .description("rewrite .vigil files in canonical form, comments kept; files with syntax errors are reported and left untouched")
    .argument("<path...>", "rule files or directories")
    .option("--check", "write nothing: list the files that would change, exit 1 if any")
    .action((paths: string[], o: { check?: boolean }) => {
      code = runFmt(paths, o, io);
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof RangeError) {
      io.err(`vigil: ${err.message}`);
      return 2;
    }
    throw err;
  }
  return code;
}
