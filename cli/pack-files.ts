import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PackFile } from "../dsl/index.js";

/** The rules that ship with Vigil (`rules/` at the package root). */
export function shippedRulesDir(): string {
  // dist/cli/pack-files.js or cli/pack-files.ts → package root
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "rules"))) return join(dir, "rules");
    dir = dirname(dir);
  }
  return resolve("rules");
}

/** `--rules` when given; else ./rules when present; else the shipped pack. */
export function defaultRulesPath(given: string | undefined): string {
  if (given !== undefined) return given;
  return existsSync("rules") ? "rules" : shippedRulesDir();
}

/** Every `.vigil` file under the paths (files as given, directories recursively, sorted). */
export function collectPackFiles(paths: readonly string[]): PackFile[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        const child = join(p, name);
        if (statSync(child).isDirectory()) {
          if (name !== "node_modules" && !name.startsWith(".")) walk(child);
        } else if (name.endsWith(".vigil")) out.push(child);
      }
    } else out.push(p);
  };
  for (const p of paths) walk(p);
  const cwd = process.cwd();
  return out.map((p) => {
    const rel = relative(cwd, p);
    return { path: rel.startsWith("..") ? p : rel, text: readFileSync(p, "utf8") };
  });
}
