import { writeFileSync } from "node:fs";
import { formatDiagnostic, SourceFile, type PackFile } from "../../dsl/index.js";
import { formatSource } from "../../dsl/printer.js";
import { collectPackFiles } from "../pack-files.js";
import { isPathProblem } from "../fs-problem.js";
import type { Io } from "../io.js";

export interface FmtOptions {
  /** Write nothing; list the files that would change and fail if there are any. */
  readonly check?: boolean;
}

const files = (n: number): string => `${n} file${n === 1 ? "" : "s"}`;

/**
 * `vigil fmt [--check] PATH...`: rewrites each `.vigil` file (directories recursively) in
 * canonical form, comments kept. Files with syntax errors are reported and left untouched.
 * The paths of the files that change (or would change) are printed on stdout, the summary on
 * stderr. Exit 1 when a file has syntax errors, or with --check when a file would change.
 */
export function runFmt(paths: readonly string[], opts: FmtOptions, io: Io): number {
  let found: PackFile[];
  try {
    found = collectPackFiles(paths);
  } catch (err) {
    // A path that cannot be read is said as for every command (main: one line, exit 2).
    if (isPathProblem(err)) throw err;
    io.err(`vigil fmt: ${(err as Error).message}`);
    return 1;
  }
  if (found.length === 0) {
    io.err(`no .vigil files under ${paths.join(" ")}`);
    return 1;
  }
  let changed = 0;
  let unchanged = 0;
  let broken = 0;
  for (const f of found) {
    const result = formatSource(new SourceFile(f.path, f.text));
    if (!result.ok) {
      for (const d of result.diagnostics) io.err(formatDiagnostic(d));
      broken++;
    } else if (!result.changed) {
      unchanged++;
    } else {
      changed++;
      if (opts.check !== true) writeFileSync(f.path, result.text);
      io.out(f.path);
    }
  }
  const parts: string[] = [];
  if (changed > 0) parts.push(opts.check === true ? `${files(changed)} would be reformatted` : `formatted ${files(changed)}`);
  if (unchanged > 0) parts.push(`${files(unchanged)} already formatted`);
  if (broken > 0) parts.push(`${files(broken)} with syntax errors left untouched`);
  io.err(parts.join(", "));
  return broken > 0 || (opts.check === true && changed > 0) ? 1 : 0;
}
