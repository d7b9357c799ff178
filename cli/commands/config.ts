import { type Config, type ConfigError, type ConfigValue, formatConfigError, type Setting, SETTINGS } from "../config.js";
import type { Io } from "../io.js";

function show(v: ConfigValue | undefined): string {
  if (v === undefined) return "";
  if (typeof v !== "object") return String(v);
  return "section" in v ? JSON.stringify(v.section) : v.join(", ");
}

/** A setting's type with its accepted range: `int ≥ 1`, `int 1–65535`. */
function typeText(s: Setting): string {
  if (s.min === undefined && s.max === undefined) return s.type;
  if (s.max === undefined) return `${s.type} ≥ ${s.min ?? 0}`;
  return `${s.type} ${s.min ?? 0}–${s.max}`;
}

/** The settings table as Markdown (the README's configuration section is this table). */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map((s) => `| \`${s.path}\` | ${s.env === undefined ? "" : `\`${s.env}\``} | ${typeText(s)} | ${show(s.default)} | ${s.doc.replace(/\|/g, "\\|")} |`);
  return ["| setting (YAML path) | environment | type | default | meaning |", "|---|---|---|---|---|", ...rows].join("\n");
}

/**
 * `vigil config`: checks the configuration `vigil run` would use (file, environment, flags)
 * and prints each setting's resolved value; `--settings` prints the table of every setting.
 */
export function runConfig(o: { settings?: boolean }, resolved: { config: Config; errors: readonly ConfigError[] }, io: Io): number {
  if (o.settings === true) {
    io.out(settingsMarkdown());
    return 0;
  }
  for (const e of resolved.errors) io.err(formatConfigError(e));
  if (resolved.errors.length > 0) return 2;
  for (const s of SETTINGS) {
    const v = resolved.config.get(s.path);
    if (v === undefined) continue;
    const shown = s.secret === true ? "***" : /url/.test(s.path) ? redactUrl(show(v)) : typeof v === "object" && "section" in v ? JSON.stringify(redactSection(v.section)) : show(v);
    io.out(`${s.path}: ${shown}`);
  }
  return 0;
}

/** Credentials inside a section (`token`, `password`, `api_key`, `secret`, …) as ***, URLs redacted. */
function redactSection(v: unknown, key = ""): unknown {
  if (/token|password|secret|api_key|apikey|authorization/i.test(key) && v !== null && typeof v !== "object") return "***";
  if (typeof v === "string") return /url/i.test(key) ? redactUrl(v) : v;
  if (Array.isArray(v)) return v.map((x) => redactSection(x, key));
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactSection(x, k)]));
  return v;
}

/** Hides a password in a URL (`postgres://user:secret@host` → `postgres://user:***@host`). */
export function redactUrl(u: string): string {
  return u.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}
