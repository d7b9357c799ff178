/**
 * A RuleAdmin over a rule pack loaded with the language's own loader: lists the pack's
 * rules, checks sources, keeps enable/disable overrides and reloads from the files.
 * `apply` hands a new pack (and each enable/disable) to the engine.
 */
import { resolve } from "node:path";
import type { Actor, Result } from "../connectors/store/types.js";
import { type CompiledPack, type CompiledRule, type Diagnostic, loadPack, type LoadOptions, type PackFile } from "../dsl/index.js";
import type { PackCheck, RuleAdmin, RuleDiagnostic, RuleInfo } from "./ports.js";

export interface PackRuleAdminOptions {
  /** Reads the pack's files (on reload). */
  readFiles(): PackFile[] | Promise<PackFile[]>;
  /** Loads the pack (default: the language's `loadPack` without options). */
  readonly load?: (files: readonly PackFile[], opts?: LoadOptions) => CompiledPack;
  /** Makes a pack and the set of disabled rules current in the engine. */
  apply(pack: CompiledPack, disabled: ReadonlySet<string>, actor: Actor): void | Promise<void>;
  /** Records who changed what (the audit log). */
  audit?(actor: Actor, action: string, target: string, details: Readonly<Record<string, unknown>>): Promise<unknown>;
}

function diagnostic(d: Diagnostic): RuleDiagnostic {
  return { code: d.code, severity: d.severity, message: d.message, file: d.file, line: d.line, col: d.col };
}

function summary(pack: CompiledPack): PackCheck {
  return { ok: !pack.diagnostics.some((d) => d.severity === "error"), rules: pack.rules.length, diagnostics: pack.diagnostics.map(diagnostic) };
}

/**
 * Checks uploaded files: `.vigil` files are the pack, any other file is a list file the pack
 * may name with `file("…")`. Nothing is read from the server's disk: a list file that was
 * not uploaded is an E_LIST_FILE diagnostic, so a check cannot probe the server's files.
 */
function checkUploaded(load: NonNullable<PackRuleAdminOptions["load"]>, files: readonly PackFile[]): CompiledPack {
  const lists = new Map(files.filter((f) => !f.path.endsWith(".vigil")).map((f) => [resolve(f.path), f.text]));
  const readText = (path: string): string => {
    const text = lists.get(path);
    if (text === undefined) throw new Error("not among the uploaded files (a check reads no file from the server)");
    return text;
  };
  return load(
    files.filter((f) => f.path.endsWith(".vigil")),
    { readText },
  );
}

/** Loads the pack once and returns its admin. */
export async function createPackRuleAdmin(opts: PackRuleAdminOptions): Promise<RuleAdmin & { readonly pack: () => CompiledPack }> {
  const load = opts.load ?? ((files: readonly PackFile[], o?: LoadOptions) => loadPack(files, o));
  let pack = load(await opts.readFiles());
  const disabled = new Set<string>();
  const info = (r: CompiledRule): RuleInfo => ({
    name: r.name,
    title: r.title,
    severity: r.severity,
    enabled: r.enabled && !disabled.has(r.name),
    version: r.version ?? null,
    fingerprint: r.fingerprint,
    tags: r.tags,
    location: r.location,
  });
  return {
    pack: () => pack,
    list: () => Promise.resolve(pack.rules.map(info)),
    check: (files) => Promise.resolve(summary(checkUploaded(load, files))),
    async setEnabled(name: string, enabled: boolean, actor: Actor): Promise<Result<RuleInfo>> {
      const rule = pack.rules.find((r) => r.name === name);
      if (rule === undefined) return { ok: false, error: { code: "E_NOT_FOUND", message: `no loaded rule ${name}` } };
      if (enabled) disabled.delete(name);
      else disabled.add(name);
      await opts.apply(pack, disabled, actor);
      await opts.audit?.(actor, enabled ? "rule.enable" : "rule.disable", name, {});
      return { ok: true, value: info(rule) };
    },
    async reload(actor: Actor) {
      const next = load(await opts.readFiles());
      const check = summary(next);
      if (!check.ok) {
        await opts.audit?.(actor, "rules.reload", "pack", { applied: false, errors: check.diagnostics.filter((d) => d.severity === "error").length });
        return { ...check, applied: false };
      }
      pack = next;
      for (const name of [...disabled]) if (!pack.rules.some((r) => r.name === name)) disabled.delete(name);
      await opts.apply(pack, disabled, actor);
      await opts.audit?.(actor, "rules.reload", "pack", { applied: true, rules: check.rules });
      return { ...check, applied: true };
    },
  };
}
