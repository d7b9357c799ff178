/**
 * Reading an action's arguments: the address, account or host it targets and its duration,
 * with the catalogue's defaults (block_ip 1 h, lock_account the lockout policy's 300 s,
 * require_mfa and isolate_host until cleared).
 */
import { ACTION_CATALOGUE } from "../../dsl/index.js";
import { parseIp } from "../../dsl/ip.js";
import type { ResponseAction } from "../../engine/response.js";

/** The argument naming what an action targets, per action. */
export const TARGET_PARAM: Readonly<Record<string, string>> = {
  block_ip: "ip",
  unblock_ip: "ip",
  lock_account: "account",
  unlock_account: "account",
  require_mfa: "account",
  isolate_host: "host",
  notify: "channel",
  webhook: "name",
};

/** The text of an argument, or undefined when it is missing or empty. */
export function textArg(args: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = args[name];
  if (typeof v === "string") return v.trim() === "" ? undefined : v.trim();
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/** The action's duration in ms: its `for` argument, else the catalogue default, else undefined (until cleared). */
export function durationMs(action: string, args: Readonly<Record<string, unknown>>): number | undefined {
  const v = args.for;
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return v;
  const def = ACTION_CATALOGUE.get(action)?.params.find((p) => p.name === "for")?.default;
  return typeof def === "number" ? def : undefined;
}

/** Whether the catalogue says the action is undone when its duration ends. */
export function isReversible(action: string): boolean {
  return ACTION_CATALOGUE.get(action)?.reversible ?? false;
}

/**
 * An address in canonical text (`203.0.113.7`, `2001:db8::1`), or undefined for anything that
 * is not one: what goes into Redis, NATS and nft is never raw event text.
 */
export function canonicalIp(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const b = parseIp(text);
  if (b === undefined) return undefined;
  const v4 = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (v4) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i] as number) << 8) | (b[i + 1] as number));
  // RFC 5952: compress the longest run (≥ 2) of zero words.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best === -1) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** Whether a canonical address is IPv6. */
export function isIpv6(ip: string): boolean {
  return ip.includes(":");
}

/** A one-line description of an action for logs and dry runs: `block_ip 203.0.113.7 for 3600s`. */
export function describeAction(a: Pick<ResponseAction, "action" | "args">): string {
  const param = TARGET_PARAM[a.action];
  const target = param === undefined ? undefined : textArg(a.args, param);
  const d = isReversible(a.action) ? durationMs(a.action, a.args) : undefined;
  return [
    a.action,
    target,
    d === undefined ? (isReversible(a.action) ? "until cleared" : undefined) : `for ${Math.ceil(d / 1000)}s`,
  ]
    .filter((x) => x !== undefined)
    .join(" ");
}
