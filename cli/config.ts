/**
 * `vigil run`'s configuration: a YAML file (`--config`, else $VIGIL_CONFIG), then
 * environment variables, then command-line flags, each overriding the one before. Every
 * setting is one row of {@link SETTINGS}: its path in the file, its environment variable,
 * its type, default and meaning; the README's configuration table lists them all (a test
 * checks), and a setting the table does not know is an error with its line and column.
 */
import { readFileSync } from "node:fs";
import { DECODER_FORMATS } from "../connectors/parsers/index.js";
import { parseResponseConfig } from "../connectors/responders/config.js";
import { closest } from "../dsl/suggest.js";
import { parseDuration } from "./duration.js";
import { zoneProblem } from "./zone-check.js";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";

export type SettingType = "string" | "int" | "duration" | "bool" | "list" | "section";

export interface Setting {
  /** Dotted path in the YAML file. */
  readonly path: string;
  readonly env?: string;
  readonly type: SettingType;
  readonly default?: string | number | boolean | readonly string[];
  /** Smallest and largest accepted value of an `int` or `duration` setting. */
  readonly min?: number;
  readonly max?: number;
  /** Never printed (`vigil config` shows ***). */
  readonly secret?: true;
  /** A further check of the converted value: why it is refused, or undefined. */
  readonly check?: (value: string) => string | undefined;
  readonly doc: string;
}

/** A check that a text setting is one of `values`. */
function oneOf(values: readonly string[]): (value: string) => string | undefined {
  return (v) => (values.includes(v) ? undefined : `must be one of ${values.join(", ")}${closest(v, values) === undefined ? "" : ` (did you mean ${closest(v, values)}?)`}`);
}

/** Every setting `vigil run` reads. */
export const SETTINGS: readonly Setting[] = [
  { path: "rules", env: "VIGIL_RULES", type: "string", doc: "rule pack directory (default: ./rules, else the shipped pack)" },
  { path: "policy", env: "VIGIL_POLICY", type: "string", doc: "platform policy file (security-policies.yaml) whose values the packs read as parameters" },
  { path: "data_dir", env: "VIGIL_DATA_DIR", type: "string", default: ".vigil", doc: "embedded default: where the embedded database, models and state live" },
  { path: "log_level", env: "VIGIL_LOG_LEVEL", type: "string", default: "info", check: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), doc: "pino log level: fatal, error, warn, info, debug, trace or silent (logs are JSON lines on stderr)" },
  { path: "shutdown_timeout", env: "VIGIL_SHUTDOWN_TIMEOUT", type: "duration", default: 10_000, min: 1, doc: "on SIGTERM/SIGINT: time allowed to finish in-flight work, checkpoint, acknowledge and close before exiting with status 1" },
  { path: "alerts_stdout", env: "VIGIL_ALERTS_STDOUT", type: "bool", default: true, doc: "print each alert as a JSON line on stdout" },

  { path: "input.files", type: "list", default: [], doc: "embedded default: log or event files to read (`-` for stdin); `--input`" },
  { path: "input.follow", env: "VIGIL_FOLLOW", type: "bool", default: false, doc: "embedded default: follow the input files like `tail -F` (rotation and truncation handled); `--follow`" },
  { path: "input.poll_interval", type: "duration", default: 250, min: 1, doc: "how often a followed file is checked for growth" },
  { path: "input.format", type: "string", default: "auto", check: oneOf(DECODER_FORMATS), doc: `input format: ${DECODER_FORMATS.join(", ")}` },
  { path: "input.year", type: "int", min: 1, max: 9999, doc: "year of syslog timestamps (default: inferred)" },
  { path: "input.tz", type: "string", default: "UTC", check: zoneProblem, doc: "time zone of syslog timestamps (IANA name)" },
  { path: "input.max_queued_events", type: "int", default: 50_000, min: 1, doc: "embedded default: events queued in the in-process bus before producers (files, HTTP ingest) wait" },

  { path: "nats.url", env: "NATS_URL", type: "string", doc: "NATS server; without one, the embedded default" },
  { path: "nats.prefix", env: "VIGIL_NATS_PREFIX", type: "string", check: (v) => (/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(v) ? undefined : "must be subject tokens: letters, digits, _ and -, joined by dots (no spaces, * or >)"), doc: "put every stream, subject and bucket under this prefix (tenants, tests); default: the `security.*` names" },
  { path: "nats.batch", type: "int", default: 500, min: 1, doc: "messages per fetch; `--batch`" },
  { path: "nats.max_ack_pending", type: "int", default: 100_000, min: 1, doc: "most unacknowledged messages in flight (back-pressure): a checkpoint is taken at the latest when half of them are unacknowledged; `--max-ack-pending`" },
  { path: "nats.checkpoint_interval", type: "duration", default: 5000, min: 1, doc: "how often engine state is checkpointed and messages acknowledged (a crash replays at most this much of the stream, half as much again when a checkpoint is put off during a burst of alerts); `--checkpoint-interval`" },
  { path: "nats.max_message_bytes", type: "int", default: 1 << 20, min: 1, doc: "a larger message goes to the dead letters (`too_large`)" },
  { path: "nats.max_events_per_message", type: "int", default: 10_000, min: 1, doc: "most NDJSON events in one message" },
  { path: "nats.stream_max_age", type: "duration", default: 7 * 86_400_000, min: 1, doc: "retention of the events stream" },
  { path: "nats.stream_max_bytes", type: "int", default: -1, min: -1, doc: "size limit of the events stream (-1: none)" },
  { path: "nats.duplicate_window", type: "duration", default: 600_000, doc: "JetStream de-duplication window of the streams Vigil provisions" },

  { path: "database.enabled", env: "VIGIL_STORE", type: "bool", default: true, doc: "keep alerts as incidents in the incident store (the API needs it)" },
  { path: "database.url", env: "DATABASE_URL", type: "string", check: (v) => (/^(postgres|postgresql|memory):\/\//.test(v) ? undefined : "must start with postgres://, postgresql:// or memory://"), doc: "PostgreSQL (`postgres://…`) for the incident store, or `memory://`; without one, PGlite under `data_dir`/db" },
  { path: "database.group_window", type: "duration", default: 3_600_000, doc: "alerts of the same rule and key within this time of an open incident's last alert join it" },
  { path: "database.connect_timeout", env: "VIGIL_DATABASE_CONNECT_TIMEOUT", type: "duration", default: 60_000, min: 0, doc: "at start, how long an unreachable PostgreSQL is retried (backing off to 5 s) before the job gives up; a restart during a database failover waits it out" },
  { path: "database.max_buffered_alerts", type: "int", default: 10_000, min: 1, doc: "alerts held while the database is unreachable; past it the pipeline stops acknowledging" },
  { path: "audit.retention_days", env: "VIGIL_AUDIT_RETENTION_DAYS", type: "int", default: 2555, min: 1, doc: "audit log retention; pruning records an anchor so the chain still verifies" },
  { path: "coverage.expected_services", env: "VIGIL_EXPECTED_SERVICES", type: "list", default: [], doc: "services expected to emit events (the coverage KPI)" },

  { path: "api.enabled", env: "VIGIL_API_ENABLED", type: "bool", doc: "serve the HTTP API (default: when the job is long-lived — on JetStream or with `--follow`)" },
  { path: "api.port", env: "VIGIL_API_PORT", type: "int", default: 8018, min: 1, max: 65_535, doc: "HTTP API port" },
  { path: "api.host", env: "VIGIL_API_HOST", type: "string", default: "127.0.0.1", doc: "HTTP API address to listen on" },
  { path: "api.cors_origins", env: "VIGIL_CORS_ORIGINS", type: "list", default: [], doc: "origins allowed by CORS (none by default)" },
  { path: "api.bootstrap_api_key", env: "VIGIL_BOOTSTRAP_API_KEY", type: "string", secret: true, check: (v) => (v !== "" && v.length < 24 ? `must be at least 24 characters (got ${v.length})` : undefined), doc: "an admin API key created (hashed) at start, at least 24 characters" },
  { path: "api.jwt_secret", env: "VIGIL_JWT_SECRET", type: "string", secret: true, check: (v) => (v !== "" && Buffer.byteLength(v) < 32 ? "must be at least 32 bytes" : undefined), doc: "HS256 secret of accepted JWT bearer tokens (none: API keys only)" },
  { path: "api.jwt_issuer", env: "VIGIL_JWT_ISSUER", type: "string", doc: "required `iss` of JWTs" },
  { path: "api.jwt_audience", env: "VIGIL_JWT_AUDIENCE", type: "string", doc: "required `aud` of JWTs" },
  { path: "api.rate_limit_per_key", env: "VIGIL_RATE_LIMIT_PER_KEY", type: "int", default: 100, min: 1, max: 1_000_000, doc: "requests per window per API key or JWT subject (platform policy: 100/min)" },
  { path: "api.rate_limit_per_ip", env: "VIGIL_RATE_LIMIT_PER_IP", type: "int", default: 500, min: 1, max: 1_000_000, doc: "requests per window per client address (platform policy: 500/min)" },
  { path: "api.rate_limit_window", env: "VIGIL_RATE_LIMIT_WINDOW_MS", type: "duration", default: 60_000, min: 1, max: 86_400_000, doc: "rate-limit window" },
  { path: "api.trust_proxy", env: "VIGIL_TRUST_PROXY", type: "bool", default: false, doc: "take the client address from X-Forwarded-For" },

  { path: "influx.url", env: "INFLUX_URL", type: "string", doc: "InfluxDB 1.x for the time series (event rates, alerts, anomaly scores, KPIs); none: not written" },
  { path: "influx.database", env: "INFLUX_DATABASE", type: "string", default: "vigil", doc: "InfluxDB database (created when missing)" },
  { path: "influx.interval", env: "INFLUX_INTERVAL_MS", type: "duration", default: 10_000, min: 1, doc: "aggregation interval of the time series" },
  { path: "influx.retention", env: "INFLUX_RETENTION", type: "string", check: (v) => (/^((\d+(ns|u|ms|s|m|h|d|w))+|INF)$/i.test(v) ? undefined : "must be an InfluxDB duration such as 30d, 52w or 1h30m (or INF)"), doc: "InfluxDB retention policy duration (e.g. 30d); none: the database default" },
  { path: "influx.kpi_interval", type: "duration", default: 60_000, min: 1, doc: "how often the KPIs of the last 24 h are written" },

  { path: "response", type: "section", doc: "automated response (responders, modes, allowlists, caps, webhooks, SIEM): see docs/responders.md" },
  { path: "redis.url", env: "REDIS_URL", type: "string", doc: "Redis for blocks and lockouts read by gateways and the auth service" },
];

export interface ConfigError {
  readonly code: "E_CONFIG";
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

export type ConfigValue = string | number | boolean | readonly string[] | { readonly section: unknown };
/** Resolved settings by path; a setting without a value and without a default is absent. */
export type Config = ReadonlyMap<string, ConfigValue>;

export { parseDuration } from "./duration.js";

const BY_PATH: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.path, s]));

/** A setting's raw value (YAML or environment text) typed and checked: the value, or why it is refused. */
function convert(s: Setting, raw: unknown): { value: ConfigValue } | { error: string } {
  const v = convertType(s, raw);
  if ("error" in v) return v;
  const x = v.value;
  if (typeof x === "number" && ((s.min !== undefined && x < s.min) || (s.max !== undefined && x > s.max))) return { error: `${x} is out of range: expected ${range(s)}` };
  if (typeof x === "string" && s.check !== undefined) {
    const problem = s.check(x);
    if (problem !== undefined) return { error: problem };
  }
  return v;
}

function range(s: Setting): string {
  const unit = s.type === "duration" ? " ms" : "";
  if (s.max === undefined) return `at least ${s.min ?? 0}${unit}`;
  return `${s.min ?? 0} to ${s.max}${unit}`;
}

function convertType(s: Setting, raw: unknown): { value: ConfigValue } | { error: string } {
  const ok = (value: ConfigValue) => ({ value });
  const no = (error: string) => ({ error });
  switch (s.type) {
    case "string":
      return typeof raw === "string" || typeof raw === "number" ? ok(String(raw)) : no("expected a string");
    case "int": {
      const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
      return typeof n === "number" && Number.isInteger(n) ? ok(n) : no("expected a whole number");
    }
    case "duration": {
      if (typeof raw === "number" && Number.isFinite(raw) && raw >= 0) return ok(raw);
      if (typeof raw === "string") {
        if (/^\d+$/.test(raw.trim())) return ok(Number(raw.trim()));
        const ms = parseDuration(raw.trim());
        if (ms !== undefined) return ok(ms);
      }
      return no("expected a duration like 30s, 5m, 1h (or milliseconds)");
    }
    case "bool":
      if (typeof raw === "boolean") return ok(raw);
      if (typeof raw === "string" && /^(1|true|yes|on)$/i.test(raw)) return ok(true);
      if (typeof raw === "string" && /^(0|false|no|off|)$/i.test(raw)) return ok(false);
      return no("expected true or false");
    case "section":
      return typeof raw === "object" && raw !== null && !Array.isArray(raw) ? ok({ section: raw }) : no("expected a mapping");
    case "list":
      if (Array.isArray(raw) && raw.every((x) => typeof x === "string")) return ok(raw);
      if (typeof raw === "string") return ok(raw.split(",").map((x) => x.trim()).filter((x) => x !== ""));
      return no("expected a list of strings");
  }
}

/** Reads a YAML config file into settings; every problem is reported with its position. */
export function readConfigFile(file: string, text: string = readFileSync(file, "utf8")): { values: Map<string, ConfigValue>; errors: ConfigError[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const errors: ConfigError[] = [];
  const values = new Map<string, ConfigValue>();
  const at = (node: YamlNode | null | undefined, message: string, offset?: number) => {
    const pos = lc.linePos(offset ?? node?.range?.[0] ?? 0);
    errors.push({ code: "E_CONFIG", message, file, line: pos.line, col: pos.col });
  };
  for (const e of doc.errors) at(undefined, e.message, e.pos[0]);
  if (errors.length > 0) return { values, errors };
  const walk = (node: unknown, prefix: string) => {
    if (!isMap(node)) {
      at(node as YamlNode, prefix === "" ? "the configuration must be a mapping of settings" : `${prefix}: expected a mapping`);
      return;
    }
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode;
      const key = isScalar(keyNode) ? String(keyNode.value) : "";
      const path = prefix === "" ? key : `${prefix}.${key}`;
      const s = BY_PATH.get(path);
      if (s === undefined) {
        if (SETTINGS.some((x) => x.path.startsWith(`${path}.`))) {
          walk(pair.value, path);
        } else {
          at(keyNode, `unknown setting \`${path}\`${suggest(path)}`);
        }
        continue;
      }
      const valueNode = pair.value as YamlNode | null;
      const raw: unknown = isSeq(valueNode) || isMap(valueNode) ? valueNode.toJSON() : isScalar(valueNode) ? valueNode.value : null;
      if (raw === null) continue;
      const v = convert(s, raw);
      if ("error" in v) at(valueNode ?? keyNode, `${path}: ${v.error}`);
      else values.set(path, v.value);
    }
  };
  if (doc.contents !== null) walk(doc.contents, "");
  // The response section has its own schema: check it here so that `vigil config` reports
  // every problem in it at its position, as it does the rest (vigil run would refuse them).
  const response = values.get("response");
  if (response !== undefined && typeof response === "object" && "section" in response) {
    const parsed = parseResponseConfig(response.section);
    if (!parsed.ok) for (const e of parsed.errors) at(nearestNode(doc, e.path), `${e.path}: ${e.message}`);
  }
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return { values, errors };
}

/** The YAML node at a dotted path with [i] indexes (`response.siem[0].url`), else its nearest ancestor. */
function nearestNode(doc: ReturnType<typeof parseDocument>, path: string): YamlNode | undefined {
  const parts: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) parts.push(m[2] !== undefined ? Number(m[2]) : (m[1] as string));
  for (let n = parts.length; n > 0; n--) {
    const node = doc.getIn(parts.slice(0, n), true) as YamlNode | undefined;
    if (node !== undefined && node !== null && typeof node === "object" && "range" in node) return node;
  }
  return undefined;
}

function suggest(path: string): string {
  const leaf = path.split(".").pop() ?? path;
  const near = SETTINGS.find((s) => s.path.endsWith(`.${leaf}`) || s.path === leaf)?.path ?? closest(path, SETTINGS.map((s) => s.path));
  return near === undefined ? "" : ` (did you mean \`${near}\`?)`;
}

/**
 * Resolves the configuration: defaults, then the file, then the environment, then `flags`
 * (already typed by the CLI). Returns the errors of the file and the environment.
 */
export function resolveConfig(o: { file?: string; env: NodeJS.ProcessEnv; flags: ReadonlyMap<string, ConfigValue | undefined> }): { config: Config; errors: ConfigError[] } {
  const out = new Map<string, ConfigValue>();
  const errors: ConfigError[] = [];
  for (const s of SETTINGS) if (s.default !== undefined) out.set(s.path, s.default);
  if (o.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.file, "utf8");
    } catch (err) {
      errors.push({ code: "E_CONFIG", message: `cannot read the configuration file: ${(err as Error).message}`, file: o.file });
      return { config: out, errors };
    }
    const r = readConfigFile(o.file, text);
    errors.push(...r.errors);
    for (const [k, v] of r.values) out.set(k, v);
  }
  for (const s of SETTINGS) {
    if (s.env === undefined) continue;
    const raw = o.env[s.env];
    if (raw === undefined || (raw === "" && s.type !== "bool")) continue;
    const v = convert(s, raw);
    if ("error" in v) errors.push({ code: "E_CONFIG", message: `${s.env}: ${v.error}` });
    else out.set(s.path, v.value);
  }
  for (const [k, v] of o.flags) if (v !== undefined) out.set(k, v);
  return { config: out, errors };
}

export function formatConfigError(e: ConfigError): string {
  const where = e.file === undefined ? "" : e.line === undefined ? `${e.file}: ` : `${e.file}:${e.line}:${e.col ?? 1}: `;
  return `${where}error ${e.code}: ${e.message}`;
}

/** Typed accessors over a resolved configuration. */
export const cfg = {
  str: (c: Config, path: string): string | undefined => {
    const v = c.get(path);
    return typeof v === "string" ? v : undefined;
  },
  num: (c: Config, path: string): number | undefined => {
    const v = c.get(path);
    return typeof v === "number" ? v : undefined;
  },
  bool: (c: Config, path: string): boolean => c.get(path) === true,
  list: (c: Config, path: string): readonly string[] => {
    const v = c.get(path);
    return Array.isArray(v) ? (v as readonly string[]) : [];
  },
  section: (c: Config, path: string): unknown => {
    const v = c.get(path);
    return typeof v === "object" && v !== null && "section" in v ? v.section : undefined;
  },
};

/**
 * The configuration as the environment variables of its settings (for the parts that read
 * their settings from the environment: the API, InfluxDB, the responders), so that a value
 * from the file or a flag reaches them too.
 */
export function envFromConfig(c: Config, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const s of SETTINGS) {
    if (s.env === undefined) continue;
    const v = c.get(s.path);
    if (v === undefined) continue;
    env[s.env] = Array.isArray(v) ? v.join(",") : typeof v === "object" ? undefined : String(v);
  }
  return env;
}
