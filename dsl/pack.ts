import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type * as A from "./ast.js";
import { CheckContext, type Located } from "./check/context.js";
import { checkMacroCycles, checkSettings, collectSymbols, reportDuplicates, validZone } from "./check/declarations.js";
import { checkCondition } from "./check/expressions.js";
import { checkModel, checkRule } from "./check/rules.js";
import { checkFieldsAgainstSchema } from "./check/schema.js";
import { compileListItems, type CompiledList, type CompileEnv } from "./compile/conditions.js";
import { compileModel, compileRule, type CompiledModel, type CompiledRule } from "./compile/rules.js";
import { compilePackRelevance } from "./compile/relevance.js";
import { fieldReads } from "./compile/reads.js";
import type { EventFields } from "./fields.js";
import type { Diagnostic } from "./diagnostics.js";
import { parseFile } from "./parser.js";
import { printDecl } from "./printer.js";
import { SourceFile } from "./source.js";

export interface PackFile {
  readonly path: string;
  readonly text: string;
}

export interface PackSettings {
  /** How late an event may arrive (event time behind the newest seen) and still be on time. */
  readonly latenessMs: number;
  /** How far ahead of the wall clock an event may be dated before it is refused. */
  readonly futureSkewMs: number;
  readonly maxKeysPerRule: number;
  readonly evidenceCap: number;
  /** IANA zone of the time functions. */
  readonly timezone: string;
}

export const DEFAULT_SETTINGS: PackSettings = {
  latenessMs: 30_000,
  futureSkewMs: 300_000,
  maxKeysPerRule: 1_000_000,
  evidenceCap: 100,
  timezone: "UTC",
};

export interface LoadOptions {
  /** Parameter overrides (the platform policy): name → value, replacing the declared default. */
  readonly params?: Readonly<Record<string, string | number | boolean | null>>;
  /** Known field paths: when given, a field outside it is a warning (W_UNKNOWN_FIELD). */
  readonly schema?: ReadonlySet<string>;
  /** Reads a list file; by default from disk, relative to the rule file. */
  readonly readText?: (path: string) => string;
}

export interface CompiledPack {
  /** Rules that checked clean, in declaration order (broken ones are left out and reported). */
  readonly rules: readonly CompiledRule[];
  readonly lists: ReadonlyMap<string, CompiledList>;
  /** Model declarations that checked clean. */
  readonly models: ReadonlyMap<string, CompiledModel>;
  readonly settings: PackSettings;
  readonly diagnostics: readonly Diagnostic[];
  /** Names of declarations that failed to check. */
  readonly broken: readonly string[];
  /**
   * False only for events that no enabled rule of `rules` can act on (see
   * `CompiledRule.relevant`): a decoder may send the engine such an event's time alone.
   */
  readonly relevant: (fields: EventFields) => boolean;
  /**
   * The fields the enabled rules (and the models) may read, as flat dotted keys: an event's key
   * that holds none of them (`keyIsRead` in compile/reads.ts) changes nothing the engine does
   * or reports, so a reader may leave it out of what it hands the engine.
   */
  readonly reads: ReadonlySet<string>;
}

/** Parses, checks and compiles a pack. Never throws for a broken pack: see `diagnostics`. */
export function loadPack(files: readonly PackFile[], opts: LoadOptions = {}): CompiledPack {
  const readText = opts.readText ?? ((p: string) => readFileSync(p, "utf8"));
  const parsed = files.map((f) => parseFile(new SourceFile(f.path, f.text)));
  const diagnostics: Diagnostic[] = parsed.flatMap((p) => p.diagnostics);
  const withOverrides = parsed.map((p) => ({ source: p.source, decls: p.decls.map((d) => applyOverride(d, opts.params)) }));
  const { symbols, duplicates } = collectSymbols(withOverrides);
  const ctx = new CheckContext(symbols);
  ctx.unparsed = new Set(parsed.flatMap((p) => p.unparsed));
  ctx.hasSchema = opts.schema !== undefined;
  reportDuplicates(ctx, duplicates);
  checkMacroCycles(ctx);
  checkSettings(ctx);
  for (const [name, v] of Object.entries(opts.params ?? {})) {
    const decl = symbols.params.get(name);
    if (decl === undefined) continue;
    const declared = parsed.flatMap((p) => p.decls).find((d): d is A.ParamDecl => d.kind === "param" && d.name.name === name);
    const want = declared?.value.kind === "duration" ? "number" : typeof (declared?.value)?.value;
    if (typeof v !== want) ctx.error(decl, decl.decl.value.span, "E_PARAM_OVERRIDE", `the configured value of '$${name}' (${JSON.stringify(v)}) is not a ${want} like its default`);
  }
  for (const m of symbols.macros.values()) if (!ctx.broken.has(m.decl)) checkCondition(ctx, m, m.decl.expr);
  for (const m of symbols.models.values()) checkModel(ctx, m);
  if (opts.schema !== undefined) {
    for (const m of symbols.macros.values()) checkFieldsAgainstSchema(ctx, m, opts.schema, new Set());
    for (const m of symbols.models.values()) checkFieldsAgainstSchema(ctx, m, opts.schema, new Set());
  }

  const lists = new Map<string, CompiledList>();
  for (const [name, at] of symbols.lists) {
    const items = listItems(ctx, at, readText);
    if (items !== undefined) lists.set(name, compileListItems(name, items));
  }

  const rules: CompiledRule[] = [];
  const settings = resolveSettings(symbols.settings.map((s) => s.decl));
  const env: CompileEnv = {
    timezone: settings.timezone,
    macros: new Map([...symbols.macros].map(([n, m]) => [n, m.decl.expr])),
    lists,
    params: new Map([...symbols.params].map(([n, p]) => [n, p.decl.value.kind === "duration" ? p.decl.value.ms : p.decl.value.value])),
  };
  for (const at of symbols.rules.values()) {
    checkRule(ctx, at);
    if (opts.schema !== undefined) {
      const steps = new Set(at.decl.clauses.flatMap((c) => (c.kind === "sequence" ? c.steps.map((s) => s.name.name) : [])));
      checkFieldsAgainstSchema(ctx, at, opts.schema, steps);
    }
    const used = usedDecls(at.decl, symbols);
    const brokenDep = used.find((u) => ctx.broken.has(u.decl));
    if (brokenDep !== undefined && !ctx.broken.has(at.decl)) {
      const d = brokenDep.decl as Exclude<A.Decl, A.SettingsDecl>;
      ctx.error(at, at.decl.name.span, "E_BROKEN_DEPENDENCY", `rule '${at.decl.name.name}' uses ${d.kind} '${d.name.name}', which has errors`);
    }
    if (ctx.broken.has(at.decl)) continue;
    const texts = used.map((u) => printDecl(u.decl));
    rules.push(compileRule(at.decl, at.source, env, texts));
  }
  const models = new Map<string, CompiledModel>();
  for (const [name, m] of symbols.models) if (!ctx.broken.has(m.decl)) models.set(name, compileModel(m.decl, m.source, env));

  diagnostics.push(...ctx.diagnostics);
  diagnostics.sort((a, b) => (a.file === b.file ? a.span.start - b.span.start : a.file < b.file ? -1 : 1));
  // Names of broken declarations; a broken duplicate of a rule that loaded is reported by its
  // diagnostic only, so that a loaded rule's name never reads as broken.
  const loaded = new Set(rules.map((r) => r.name));
  const checkBroken = [...ctx.broken].filter((d): d is Exclude<A.Decl, A.SettingsDecl> => d.kind !== "settings").map((d) => d.name.name);
  const broken = [...new Set([...parsed.flatMap((p) => p.unparsed), ...checkBroken])].filter((n) => !loaded.has(n));
  const enabled = new Set(rules.filter((r) => r.enabled).map((r) => r.name));
  const readers = [...[...symbols.rules].flatMap(([n, r]) => (enabled.has(n) ? [r.decl] : [])), ...[...symbols.models.values()].map((m) => m.decl)];
  const reads = fieldReads(readers, env.macros);
  return { rules, lists, models, settings, diagnostics, broken, relevant: compilePackRelevance(rules, env), reads };
}

function applyOverride(d: A.Decl, params: LoadOptions["params"]): A.Decl {
  if (d.kind !== "param" || params === undefined || !(d.name.name in params)) return d;
  const v = params[d.name.name];
  if (d.value.kind === "duration" && typeof v === "number") return { ...d, value: { ...d.value, ms: v, text: `${v}ms` } };
  if (d.value.kind === "duration") return d; // reported as E_PARAM_OVERRIDE
  if (typeof v !== typeof d.value.value) return d;
  return { ...d, value: { ...d.value, value: v ?? null } };
}

/** Items of a list: inline literals, or the lines of a file (one IP, CIDR or string a line; # comments). */
function listItems(ctx: CheckContext, at: Located<A.ListDecl>, readText: (p: string) => string): (string | number | boolean | null)[] | undefined {
  const src = at.decl.source;
  if (src.kind === "list") {
    const out: (string | number | boolean | null)[] = [];
    for (const item of src.items) {
      if (item.kind === "literal") out.push(item.value);
      else if (item.kind === "duration") out.push(item.ms);
      else if (item.kind === "param") {
        const p = ctx.symbols.params.get(item.name);
        if (p === undefined) ctx.error(at, item.span, "E_UNKNOWN_PARAM", `unknown parameter '$${item.name}'`);
        else out.push(p.decl.value.kind === "duration" ? p.decl.value.ms : p.decl.value.value);
      } else ctx.error(at, item.span, "E_LIST_ITEM", "list items are strings, numbers, booleans or durations");
    }
    return out;
  }
  const path = resolve(dirname(at.source.path), src.path);
  let text: string;
  try {
    text = readText(path);
  } catch (err) {
    ctx.error(at, src.span, "E_LIST_FILE", `cannot read list file ${path}: ${(err as Error).message}`);
    return undefined;
  }
  return parseListFile(text);
}

/** One entry a line; blank lines and `#` comments are skipped. */
export function parseListFile(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const hash = raw.indexOf("#");
    const line = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (line !== "") out.push(line);
  }
  return out;
}

/** Macros, lists and params a rule uses, transitively (for fingerprints and broken dependencies). */
function usedDecls(rule: A.RuleDecl, symbols: CheckContext["symbols"]): Located[] {
  const out = new Map<string, Located>();
  const visitExpr = (e: A.Expr): void => {
    switch (e.kind) {
      case "field": {
        const m = symbols.macros.get(e.path);
        if (m !== undefined && !out.has(`m:${e.path}`)) {
          out.set(`m:${e.path}`, m);
          visitExpr(m.decl.expr);
        }
        const l = symbols.lists.get(e.path);
        if (l !== undefined) out.set(`l:${e.path}`, l);
        return;
      }
      case "param": {
        const p = symbols.params.get(e.name);
        if (p !== undefined) out.set(`p:${e.name}`, p);
        return;
      }
      case "and":
      case "or":
        visitExpr(e.left);
        visitExpr(e.right);
        return;
      case "not":
        visitExpr(e.operand);
        return;
      case "compare":
      case "strmatch":
      case "cidr":
        visitExpr(e.left);
        visitExpr(e.right);
        return;
      case "in":
        visitExpr(e.left);
        visitExpr(e.set);
        return;
      case "call":
        e.args.forEach(visitExpr);
        return;
      case "list":
        e.items.forEach(visitExpr);
        return;
      default:
        return;
    }
  };
  for (const c of rule.clauses) {
    if (c.kind === "sequence") {
      for (const s of c.steps) {
        visitExpr(s.expr);
        if (s.repeat !== undefined) visitExpr(s.repeat.value);
      }
      if (c.until !== undefined) visitExpr(c.until);
    } else if (c.kind === "anomaly") {
      const m = symbols.models.get(c.model.name);
      if (m !== undefined) out.set(`model:${c.model.name}`, m);
      visitExpr(c.value);
      c.features?.forEach(visitExpr);
    }
    if (c.kind === "when" || c.kind === "except") visitExpr(c.expr);
    else if (c.kind === "threshold") visitExpr(c.value);
    else if (c.kind === "meta") visitExpr(c.value);
    else if (c.kind === "then") for (const a of c.actions) a.args.forEach((x) => visitExpr(x.value));
  }
  return [...out.values()];
}

function resolveSettings(decls: readonly A.SettingsDecl[]): PackSettings {
  let s: PackSettings = DEFAULT_SETTINGS;
  for (const d of decls) {
    for (const item of d.settings) {
      const v = item.value.kind === "duration" ? item.value.ms : item.value.value;
      if (item.name.name === "timezone" && typeof v === "string" && validZone(v)) s = { ...s, timezone: v };
      if (typeof v !== "number") continue;
      switch (item.name.name) {
        case "lateness":
          s = { ...s, latenessMs: v };
          break;
        case "future_skew":
          s = { ...s, futureSkewMs: v };
          break;
        case "max_keys_per_rule":
          s = { ...s, maxKeysPerRule: v };
          break;
        case "evidence_cap":
          s = { ...s, evidenceCap: v };
          break;
        default:
          break;
      }
    }
  }
  return s;
}

