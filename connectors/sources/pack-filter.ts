/**
 * A pack compiled from given inputs, with a digest of everything it was compiled from, so that
 * two threads can tell that they compiled the same pack: a decoding thread then leaves out the
 * events no rule can act on (`packRelevance`) and sends only their times.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type CompiledPack, type LoadOptions, loadPack, type PackFile } from "../../dsl/index.js";

/** A pack's files and parameter overrides (the policy), as read once. */
export interface PackInput {
  readonly files: readonly PackFile[];
  readonly params: LoadOptions["params"];
}

/**
 * Compiles `input` (list files are read from disk, as `loadPack` does); `digest` covers the
 * files, the parameters and every list file's path and text.
 */
export function compilePackInput(input: PackInput): { readonly pack: CompiledPack; readonly digest: string } {
  const reads: [string, string][] = [];
  const pack = loadPack(input.files, {
    params: input.params,
    readText: (path) => {
      const text = readFileSync(path, "utf8");
      reads.push([path, text]);
      return text;
    },
  });
  const digest = createHash("sha256")
    .update(JSON.stringify([input.files.map((f) => [f.path, f.text]), input.params ?? null, reads]))
    .digest("hex");
  return { pack, digest };
}
