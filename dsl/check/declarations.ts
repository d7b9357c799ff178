import type * as A from "../ast.js";
import type { SourceFile } from "../source.js";
import { bareName, type CheckContext, type Located, type Symbols } from "./context.js";

/** Pass 1: gather names across the pack's files; a duplicate name is an error. */
export function collectSymbols(files: readonly { source: SourceFile; decls: readonly A.Decl[] }[]): {
  symbols: Symbols;
  duplicates: { at: Located; first: Located }[];
} {
  const symbols: Symbols = { macros: new Map(), lists: new Map(), params: new Map(), rules: new Map(), models: new Map(), settings: [] };
  const duplicates: { at: Located; first: Located }[] = [];
  const all = new Map<string, Located>();
  for (const f of files) {
    for (const decl of f.decls) {
      const at: Located = { decl, source: f.source };
      if (decl.kind === "settings") {
        symbols.settings.push(at as Located<A.SettingsDecl>);
        continue;
      }
      const key = `${decl.kind === "rule" ? "rule" : "name"}:${decl.name.name}`;
      const first = all.get(key);
      if (first !== undefined) {
        duplicates.push({ at, first });
        continue;
      }
      all.set(key, at);
      if (decl.kind === "macro") symbols.macros.set(decl.name.name, at as Located<A.MacroDecl>);
      else if (decl.kind === "list") symbols.lists.set(decl.name.name, at as Located<A.ListDecl>);
      else if (decl.kind === "param") symbols.params.set(decl.name.name, at as Located<A.ParamDecl>);
      else if (decl.kind === "model") symbols.models.set(decl.name.name, at as Located<A.ModelDecl>);
      else symbols.rules.set(decl.name.name, at as Located<A.RuleDecl>);
    }
  }
  return { symbols, duplicates };
}

export function reportDuplicates(ctx: CheckContext, duplicates: { at: Located; first: Located }[]): void {
  for (const { at, first } of duplicates) {
    const d = at.decl as Exclude<A.Decl, A.SettingsDecl>;
    const pos = first.source.position((first.decl as Exclude<A.Decl, A.SettingsDecl>).name.span.start);
    ctx.error(
      at,
      d.name.span,
      "E_DUPLICATE_NAME",
      `'${d.name.name}' is already declared at ${first.source.path}:${pos.line}:${pos.col}; names are shared across a pack's files`,
    );
  }
}

/** Pass 2: macros must not refer to themselves, directly or through others. */
export function checkMacroCycles(ctx: CheckContext): void {
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    const m = ctx.symbols.macros.get(name);
    if (m === undefined || state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name].join(" → ");
      ctx.error(m, m.decl.name.span, "E_MACRO_CYCLE", `macro '${name}' refers to itself: ${cycle}`);
      return;
    }
    state.set(name, "visiting");
    for (const ref of macroRefs(m.decl.expr, ctx.symbols)) visit(ref, [...path, name]);
    state.set(name, "done");
  };
  for (const name of ctx.symbols.macros.keys()) visit(name, []);
}

function macroRefs(e: A.Expr, symbols: Symbols): string[] {
  const out: string[] = [];
  const walk = (x: A.Expr): void => {
    switch (x.kind) {
      case "field": {
        const n = bareName(x);
        if (n !== undefined && symbols.macros.has(n)) out.push(n);
        return;
      }
      case "and":
      case "or":
        walk(x.left);
        walk(x.right);
        return;
      case "not":
        walk(x.operand);
        return;
      default:
        return;
    }
  };
  walk(e);
  return out;
}

/** Settings the pack may set, with the kind of value each takes. */
export const SETTINGS: Readonly<Record<string, "duration" | "number" | "string">> = {
  lateness: "duration",
  future_skew: "duration",
  timezone: "string",
  max_keys_per_rule: "number",
  evidence_cap: "number",
};

/** Whether an IANA time zone name is known to this runtime. */
export function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function checkSettings(ctx: CheckContext): void {
  const seen = new Set<string>();
  for (const at of ctx.symbols.settings) {
    for (const s of at.decl.settings) {
      const kind = SETTINGS[s.name.name];
      if (kind === undefined) {
        ctx.error(at, s.name.span, "E_UNKNOWN_SETTING", `unknown setting '${s.name.name}'; known: ${Object.keys(SETTINGS).join(", ")}`);
        continue;
      }
      if (seen.has(s.name.name)) ctx.error(at, s.name.span, "E_DUPLICATE_SETTING", `setting '${s.name.name}' is set twice in this pack`);
      seen.add(s.name.name);
      const got = s.value.kind === "duration" ? "duration" : typeof s.value.value;
      if (got !== kind) ctx.error(at, s.value.span, "E_SETTING_TYPE", `setting '${s.name.name}' takes a ${kind === "duration" ? "duration like 30s" : kind}`);
      else if (s.value.kind === "duration" && !(s.value.ms >= 0)) ctx.error(at, s.value.span, "E_BAD_DURATION", "a duration must not be negative");
      else if (s.name.name === "timezone" && s.value.kind === "literal" && typeof s.value.value === "string" && !validZone(s.value.value)) {
        ctx.error(at, s.value.span, "E_BAD_TIMEZONE", `unknown time zone "${s.value.value}": use an IANA name like "Europe/Berlin" or "UTC"`);
      }
    }
  }
}
