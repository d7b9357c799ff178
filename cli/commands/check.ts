import { readFileSync } from "node:fs";
import { formatDiagnostic, loadPack, parseSchema } from "../../dsl/index.js";
import { collectPackFiles, defaultRulesPath } from "../pack-files.js";
import type { Io } from "../io.js";

export interface CheckOptions {
  readonly quiet?: boolean;
  /** A field schema file (one path a line, or a JSON array): unknown fields become warnings. */
  readonly schema?: string;
}

/** `vigil check [PATH...]`: parse and check a pack; every problem as file:line:col with a caret. */
export function runCheck(paths: readonly string[], opts: CheckOptions, io: Io): number {
  const files = collectPackFiles(paths.length > 0 ? paths : [defaultRulesPath(undefined)]);
  if (files.length === 0) {
    io.err(`no .vigil files under ${paths.join(" ")}`);
    return 1;
  }
  let schema: Set<string> | undefined;
  if (opts.schema !== undefined) {
    try {
      schema = parseSchema(readFileSync(opts.schema, "utf8"));
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      io.err(`vigil: schema ${opts.schema}: ${err.message}`);
      return 2;
    }
  }
  const pack = loadPack(files, schema === undefined ? {} : { schema });
  for (const d of pack.diagnostics) io.err(formatDiagnostic(d));
  const errors = pack.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = pack.diagnostics.length - errors;
  if (opts.quiet !== true) {
    io.err(
      `${files.length} file${files.length === 1 ? "" : "s"}, ${pack.rules.length} rule${pack.rules.length === 1 ? "" : "s"} ok` +
        (pack.broken.length > 0 ? `, broken: ${pack.broken.join(", ")}` : "") +
        `; ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
    );
  }
  return errors > 0 ? 1 : 0;
}
