/**
 * The `response:` section of Vigil's configuration (YAML), validated into a typed value.
 * Errors are values naming the offending path. Environment: `REDIS_URL` enables the Redis
 * responder, `VIGIL_BREAK_GLASS=1` turns every action into a dry run.
 */
import { SEVERITIES, type Severity } from "../../dsl/index.js";
import { parseCidr } from "../../dsl/ip.js";
import type { ActionMode } from "../../engine/response.js";
import type { AllowlistConfig } from "./guards.js";
import type { ChannelConfig, EscalationRule } from "./notify.js";
import type { SiemTarget } from "./siem.js";

export interface ResponseConfig {
  /** Default mode of every action (a rule's own mode or a per-rule/per-action mode may be more cautious). */
  readonly mode: ActionMode;
  readonly break_glass: boolean;
  readonly modes: {
    readonly rules: Readonly<Record<string, ActionMode>>;
    readonly actions: Readonly<Record<string, ActionMode>>;
  };
  readonly allowlist: AllowlistConfig;
  /** Cap of actions per minute per action kind; `default` for kinds not named. */
  readonly rate_per_minute: Readonly<Record<string, number>> & { readonly default: number };
  readonly retry: {
    readonly attempts: number;
    readonly base_ms: number;
    readonly max_ms: number;
    readonly timeout_ms: number;
  };
  readonly breaker: { readonly failures: number; readonly cooldown_ms: number };
  readonly concurrency: number;
  readonly poll_ms: number;
  /** Redis responder: on when a URL is known (here or `REDIS_URL`) unless `enabled: false`. */
  readonly redis: { readonly enabled: boolean; readonly url: string | undefined; readonly prefix: string };
  /** NATS command responder: on when Vigil has a NATS connection unless `enabled: false`. */
  readonly nats: { readonly enabled: boolean; readonly prefix: string; readonly stream: string | undefined };
  readonly nftables: {
    readonly enabled: boolean;
    readonly table: string;
    readonly netns: string | undefined;
  };
  readonly idp: { readonly url: string; readonly token: string | undefined } | undefined;
  readonly channels: Readonly<Record<string, ChannelConfig>>;
  readonly escalation: readonly EscalationRule[];
  readonly siem: readonly SiemTarget[];
}

export const DEFAULT_RESPONSE_CONFIG: ResponseConfig = {
  mode: "enforce",
  break_glass: false,
  modes: { rules: {}, actions: {} },
  allowlist: {},
  rate_per_minute: { default: 60 },
  retry: { attempts: 3, base_ms: 250, max_ms: 5_000, timeout_ms: 5_000 },
  breaker: { failures: 5, cooldown_ms: 30_000 },
  concurrency: 4,
  poll_ms: 5_000,
  redis: { enabled: true, url: undefined, prefix: "security:" },
  nats: { enabled: true, prefix: "security", stream: undefined },
  nftables: { enabled: false, table: "vigil", netns: undefined },
  idp: undefined,
  channels: {},
  escalation: [],
  siem: [],
};

export interface ConfigError {
  readonly code: "E_CONFIG";
  /** Where: `response.allowlist.addresses[2]`. */
  readonly path: string;
  readonly message: string;
}

const MODES: readonly ActionMode[] = ["enforce", "dry_run", "approve"];
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Validates the `response:` section (an object parsed from YAML), filling in defaults. */
export function parseResponseConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv = {},
): { ok: true; value: ResponseConfig } | { ok: false; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const err = (path: string, message: string) =>
    errors.push({ code: "E_CONFIG", path: `response${path}`, message });
  const o: Obj =
    raw === undefined || raw === null ? {} : isObj(raw) ? raw : (err("", "must be a mapping"), {});
  const known = [
    "mode",
    "break_glass",
    "modes",
    "allowlist",
    "rate_per_minute",
    "retry",
    "breaker",
    "concurrency",
    "poll_ms",
    "redis",
    "nats",
    "nftables",
    "idp",
    "channels",
    "escalation",
    "siem",
  ];
  for (const k of Object.keys(o))
    if (!known.includes(k)) err(`.${k}`, `unknown setting (known: ${known.join(", ")})`);

  const mode = (v: unknown, path: string, def: ActionMode): ActionMode => {
    if (v === undefined) return def;
    if (typeof v === "string" && (MODES as readonly string[]).includes(v)) return v as ActionMode;
    err(path, `must be one of ${MODES.join(", ")}`);
    return def;
  };
  const num = (v: unknown, path: string, def: number, min = 0): number => {
    if (v === undefined) return def;
    if (typeof v === "number" && Number.isFinite(v) && v >= min) return v;
    err(path, `must be a number ≥ ${min}`);
    return def;
  };
  const str = (v: unknown, path: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v === "string" && v !== "") return v;
    err(path, "must be a non-empty string");
    return undefined;
  };
  const bool = (v: unknown, path: string, def: boolean): boolean => {
    if (v === undefined) return def;
    if (typeof v === "boolean") return v;
    err(path, "must be true or false");
    return def;
  };
  const obj = (v: unknown, path: string): Obj => {
    if (v === undefined) return {};
    if (isObj(v)) return v;
    err(path, "must be a mapping");
    return {};
  };
  const strList = (v: unknown, path: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      err(path, "must be a list");
      return undefined;
    }
    return v.flatMap((x, i) => {
      const s = str(x, `${path}[${i}]`);
      return s === undefined ? [] : [s];
    });
  };
  /** Addresses or CIDRs: every entry that is neither is reported (not only the first). */
  const cidrList = (v: unknown, path: string): string[] | undefined => {
    const list = strList(v, path);
    if (Array.isArray(v))
      v.forEach((c, i) => {
        if (typeof c === "string" && c !== "" && parseCidr(c) === undefined)
          err(`${path}[${i}]`, `${JSON.stringify(c)} is not an address or CIDR (e.g. 10.0.0.0/8)`);
      });
    return list;
  };
  const modeMap = (v: unknown, path: string): Record<string, ActionMode> =>
    Object.fromEntries(Object.entries(obj(v, path)).map(([k, m]) => [k, mode(m, `${path}.${k}`, "enforce")]));

  const D = DEFAULT_RESPONSE_CONFIG;
  const modes = obj(o.modes, ".modes");
  const al = obj(o.allowlist, ".allowlist");
  const rate = obj(o.rate_per_minute, ".rate_per_minute");
  const retry = obj(o.retry, ".retry");
  const breaker = obj(o.breaker, ".breaker");
  const redis = obj(o.redis, ".redis");
  const nats = obj(o.nats, ".nats");
  const nft = obj(o.nftables, ".nftables");
  const idp = o.idp === undefined ? undefined : obj(o.idp, ".idp");
  const channels: Record<string, ChannelConfig> = {};
  for (const [name, c] of Object.entries(obj(o.channels, ".channels"))) {
    const co = obj(c, `.channels.${name}`);
    const url = str(co.url, `.channels.${name}.url`);
    if (url === undefined) err(`.channels.${name}.url`, "is required");
    const format =
      co.format === undefined
        ? "json"
        : co.format === "json" || co.format === "slack"
          ? co.format
          : (err(`.channels.${name}.format`, "must be json or slack"), "json");
    if (url !== undefined)
      channels[name] = {
        url,
        format,
        ...(co.token === undefined ? {} : { token: str(co.token, `.channels.${name}.token`) ?? "" }),
      };
  }
  const escalation: EscalationRule[] = [];
  if (o.escalation !== undefined) {
    if (!Array.isArray(o.escalation)) err(".escalation", "must be a list");
    else
      o.escalation.forEach((e, i) => {
        const eo = obj(e, `.escalation[${i}]`);
        const sev = eo.min_severity;
        if (typeof sev !== "string" || !(SEVERITIES as readonly string[]).includes(sev))
          err(`.escalation[${i}].min_severity`, `must be one of ${SEVERITIES.join(", ")}`);
        const chans = strList(eo.channels, `.escalation[${i}].channels`) ?? [];
        for (const c of chans)
          if (channels[c] === undefined)
            err(`.escalation[${i}].channels`, `channel ${c} is not configured under response.channels`);
        escalation.push({ min_severity: sev as Severity, channels: chans });
      });
  }
  const siem: SiemTarget[] = [];
  if (o.siem !== undefined) {
    if (!Array.isArray(o.siem)) err(".siem", "must be a list");
    else
      o.siem.forEach((s, i) => {
        const so = obj(s, `.siem[${i}]`);
        const url = str(so.url, `.siem[${i}].url`) ?? (err(`.siem[${i}].url`, "is required"), "");
        if (so.kind === "elasticsearch") {
          siem.push({
            kind: "elasticsearch",
            url,
            ...optional({
              index: str(so.index, `.siem[${i}].index`),
              api_key: str(so.api_key, `.siem[${i}].api_key`),
              username: str(so.username, `.siem[${i}].username`),
              password: str(so.password, `.siem[${i}].password`),
            }),
          });
        } else if (so.kind === "splunk") {
          const token =
            str(so.token, `.siem[${i}].token`) ?? (err(`.siem[${i}].token`, "is required for splunk"), "");
          siem.push({
            kind: "splunk",
            url,
            token,
            ...optional({
              sourcetype: str(so.sourcetype, `.siem[${i}].sourcetype`),
              index: str(so.index, `.siem[${i}].index`),
              host: str(so.host, `.siem[${i}].host`),
            }),
          });
        } else err(`.siem[${i}].kind`, "must be elasticsearch or splunk");
      });
  }
  const rateOut: Record<string, number> = { default: D.rate_per_minute.default };
  for (const [k, v] of Object.entries(rate))
    rateOut[k] = num(v, `.rate_per_minute.${k}`, D.rate_per_minute.default);

  const envBreak = ["1", "true", "on", "yes"].includes((env.VIGIL_BREAK_GLASS ?? "").toLowerCase());
  const value: ResponseConfig = {
    mode: mode(o.mode, ".mode", D.mode),
    break_glass: bool(o.break_glass, ".break_glass", false) || envBreak,
    modes: { rules: modeMap(modes.rules, ".modes.rules"), actions: modeMap(modes.actions, ".modes.actions") },
    allowlist: optional({
      addresses: cidrList(al.addresses, ".allowlist.addresses"),
      infrastructure: cidrList(al.infrastructure, ".allowlist.infrastructure"),
      accounts: strList(al.accounts, ".allowlist.accounts"),
      hosts: strList(al.hosts, ".allowlist.hosts"),
    }),
    rate_per_minute: rateOut as ResponseConfig["rate_per_minute"],
    retry: {
      attempts: num(retry.attempts, ".retry.attempts", D.retry.attempts, 1),
      base_ms: num(retry.base_ms, ".retry.base_ms", D.retry.base_ms),
      max_ms: num(retry.max_ms, ".retry.max_ms", D.retry.max_ms),
      timeout_ms: num(retry.timeout_ms, ".retry.timeout_ms", D.retry.timeout_ms, 1),
    },
    breaker: {
      failures: num(breaker.failures, ".breaker.failures", D.breaker.failures, 1),
      cooldown_ms: num(breaker.cooldown_ms, ".breaker.cooldown_ms", D.breaker.cooldown_ms),
    },
    concurrency: num(o.concurrency, ".concurrency", D.concurrency, 1),
    poll_ms: num(o.poll_ms, ".poll_ms", D.poll_ms, 10),
    redis: {
      enabled: bool(redis.enabled, ".redis.enabled", true),
      url: str(redis.url, ".redis.url") ?? (env.REDIS_URL === "" ? undefined : env.REDIS_URL),
      prefix: str(redis.prefix, ".redis.prefix") ?? D.redis.prefix,
    },
    nats: {
      enabled: bool(nats.enabled, ".nats.enabled", true),
      // Under the job's own prefix when it has one (nats.prefix): one instance's commands are not another's.
      prefix: str(nats.prefix, ".nats.prefix") ?? (env.VIGIL_NATS_PREFIX !== undefined && env.VIGIL_NATS_PREFIX !== "" ? env.VIGIL_NATS_PREFIX : D.nats.prefix),
      stream: str(nats.stream, ".nats.stream"),
    },
    nftables: {
      enabled: bool(nft.enabled, ".nftables.enabled", false),
      table: str(nft.table, ".nftables.table") ?? "vigil",
      netns: str(nft.netns, ".nftables.netns"),
    },
    idp:
      idp === undefined
        ? undefined
        : {
            url: str(idp.url, ".idp.url") ?? (err(".idp.url", "is required"), ""),
            token: str(idp.token, ".idp.token"),
          },
    channels,
    escalation,
    siem,
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

function optional<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
