/**
 * Guards that every action passes before it runs: allowlists no action may touch (loopback
 * and the platform's own infrastructure by default), a cap on actions per minute per
 * action kind, and the break-glass switch that turns every action into a dry run.
 */
import { CidrSet, parseCidr } from "../../dsl/ip.js";
import type { ActionMode } from "../../engine/response.js";
import { TARGET_PARAM, textArg } from "./args.js";

/** Always allowlisted: loopback. */
export const LOOPBACK_CIDRS: readonly string[] = ["127.0.0.0/8", "::1/128"];

export interface AllowlistConfig {
  /** Addresses and CIDRs (`10.0.0.0/8`, `192.0.2.10`, `2001:db8::/32`). */
  readonly addresses?: readonly string[];
  /** The platform's own infrastructure (gateways, Vigil, the auth service), also never touched. */
  readonly infrastructure?: readonly string[];
  /** Account names (compared case-insensitively). */
  readonly accounts?: readonly string[];
  /** Host names (compared case-insensitively). */
  readonly hosts?: readonly string[];
}

export interface GuardError {
  readonly code: "E_CONFIG";
  readonly message: string;
}

export class Allowlist {
  private readonly cidrs = new CidrSet();
  private readonly accounts: Set<string>;
  private readonly hosts: Set<string>;

  private constructor(cfg: AllowlistConfig, cidrs: readonly string[]) {
    for (const c of cidrs) this.cidrs.add(parseCidr(c)!);
    this.accounts = new Set((cfg.accounts ?? []).map((a) => a.toLowerCase()));
    this.hosts = new Set((cfg.hosts ?? []).map((h) => h.toLowerCase()));
  }

  /** Builds the allowlist; an entry that is not an address or CIDR is an error naming it. */
  static create(cfg: AllowlistConfig): { ok: true; value: Allowlist } | { ok: false; error: GuardError } {
    const all = [...LOOPBACK_CIDRS, ...(cfg.addresses ?? []), ...(cfg.infrastructure ?? [])];
    for (const c of all) {
      if (parseCidr(c) === undefined)
        return {
          ok: false,
          error: {
            code: "E_CONFIG",
            message: `allowlist entry ${JSON.stringify(c)} is not an address or CIDR (e.g. 10.0.0.0/8)`,
          },
        };
    }
    return { ok: true, value: new Allowlist(cfg, all) };
  }

  /** Why an action may not touch its target, or undefined when it may. */
  refuses(action: string, args: Readonly<Record<string, unknown>>): string | undefined {
    const param = TARGET_PARAM[action];
    if (param === undefined) return undefined;
    const target = textArg(args, param);
    if (target === undefined) return undefined;
    if (param === "ip" && this.cidrs.has(target)) return `allowlisted: ${target} is in the address allowlist`;
    if (param === "account" && this.accounts.has(target.toLowerCase()))
      return `allowlisted: account ${target} is in the allowlist`;
    if (param === "host" && this.hosts.has(target.toLowerCase()))
      return `allowlisted: host ${target} is in the allowlist`;
    return undefined;
  }
}

/** At most `perMinute[kind]` actions of a kind in any 60 s (sliding), per process. */
export class RateCap {
  private readonly taken = new Map<string, number[]>();
  constructor(
    private readonly perMinute: Readonly<Record<string, number>>,
    private readonly defaultPerMinute: number,
  ) {}

  limit(kind: string): number {
    return this.perMinute[kind] ?? this.defaultPerMinute;
  }

  /** Takes one slot for `kind` at `now`; false (nothing taken) when the cap is reached. */
  take(kind: string, now: number): boolean {
    const limit = this.limit(kind);
    if (limit <= 0) return false;
    const times = this.taken.get(kind) ?? [];
    while (times.length > 0 && (times[0] as number) <= now - 60_000) times.shift();
    if (times.length >= limit) {
      this.taken.set(kind, times);
      return false;
    }
    times.push(now);
    this.taken.set(kind, times);
    return true;
  }
}

const CAUTION: Readonly<Record<ActionMode, number>> = { enforce: 0, approve: 1, dry_run: 2 };

/** The most cautious of several modes (dry run over approval over enforcement). */
export function mostCautious(...modes: readonly (ActionMode | undefined)[]): ActionMode {
  let m: ActionMode = "enforce";
  for (const x of modes) if (x !== undefined && CAUTION[x] > CAUTION[m]) m = x;
  return m;
}

/** Whether the break-glass switch is on: `VIGIL_BREAK_GLASS=1|true|on` or the configuration. */
export function breakGlassFromEnv(env: NodeJS.ProcessEnv): boolean {
  const v = env.VIGIL_BREAK_GLASS?.toLowerCase();
  return v === "1" || v === "true" || v === "on" || v === "yes";
}
