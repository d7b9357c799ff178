/**
 * Blocks in nftables: a table `inet <table>` with sets `blocked` (IPv4) and `blocked6` (IPv6)
 * whose elements time out by themselves, and an input chain dropping their sources. Commands
 * go to `nft -f -` as one script (one atomic transaction), optionally inside a network
 * namespace (`ip netns exec <ns>`). Addresses are parsed and re-printed before they are
 * written into a script, so no event text reaches nft.
 */
import { spawn } from "node:child_process";
import type { ActionOutcome, Responder, ResponseAction, ResponseContext } from "../../engine/response.js";
import { canonicalIp, isIpv6, textArg } from "./args.js";
import { PermanentError } from "./resilience.js";

export interface NftablesOptions {
  /** Table name (family inet). Default `vigil`. */
  readonly table?: string;
  /** Run inside this network namespace. */
  readonly netns?: string;
  /** Runs a script; by default `nft -f -` (inside `netns` when given). */
  readonly run?: (script: string, signal: AbortSignal) => Promise<void>;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

/** Creates (or resets the rules of) the table, sets and chain; idempotent. */
export function nftSetupScript(table = "vigil"): string {
  checkName(table);
  return [
    `add table inet ${table}`,
    `add set inet ${table} blocked { type ipv4_addr; flags timeout; }`,
    `add set inet ${table} blocked6 { type ipv6_addr; flags timeout; }`,
    `add chain inet ${table} input { type filter hook input priority -10; policy accept; }`,
    `flush chain inet ${table} input`,
    `add rule inet ${table} input ip saddr @blocked drop`,
    `add rule inet ${table} input ip6 saddr @blocked6 drop`,
    "",
  ].join("\n");
}

function setFor(ip: string): string {
  return isIpv6(ip) ? "blocked6" : "blocked";
}

/**
 * Blocks `ip` for `seconds`: add, delete, add with the timeout — in one transaction, so an
 * existing element gets the new timeout and a missing one does not make the delete fail.
 */
export function nftBlockScript(ip: string, seconds: number, table = "vigil"): string {
  const addr = checkIp(ip);
  checkName(table);
  const s = Math.max(1, Math.ceil(seconds));
  const set = setFor(addr);
  return [
    `add element inet ${table} ${set} { ${addr} }`,
    `delete element inet ${table} ${set} { ${addr} }`,
    `add element inet ${table} ${set} { ${addr} timeout ${s}s }`,
    "",
  ].join("\n");
}

/** Unblocks `ip`; succeeds whether or not it was blocked. */
export function nftUnblockScript(ip: string, table = "vigil"): string {
  const addr = checkIp(ip);
  checkName(table);
  const set = setFor(addr);
  return [
    `add element inet ${table} ${set} { ${addr} }`,
    `delete element inet ${table} ${set} { ${addr} }`,
    "",
  ].join("\n");
}

function checkIp(ip: string): string {
  const addr = canonicalIp(ip);
  if (addr === undefined) throw new PermanentError(`not an address: ${JSON.stringify(ip)}`);
  return addr;
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new PermanentError(`not an nftables name: ${JSON.stringify(name)}`);
}

/** Runs `nft -f -` with the script on stdin; rejects with nft's message on a non-zero exit. */
export function runNft(script: string, signal: AbortSignal, netns?: string): Promise<void> {
  const [cmd, args] =
    netns === undefined ? ["nft", ["-f", "-"]] : ["ip", ["netns", "exec", netns, "nft", "-f", "-"]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "ignore", "pipe"], signal });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`nft exited with ${code}: ${err.trim().slice(0, 500)}`)),
    );
    child.stdin.end(script);
  });
}

export class NftablesResponder implements Responder {
  readonly kind = "nftables";
  readonly actions = ["block_ip", "unblock_ip"] as const;
  private readonly table: string;
  private readonly run: (script: string, signal: AbortSignal) => Promise<void>;
  private setUp = false;

  constructor(opts: NftablesOptions = {}) {
    this.table = opts.table ?? "vigil";
    checkName(this.table);
    this.run = opts.run ?? ((script, signal) => runNft(script, signal, opts.netns));
  }

  /** The script an action runs (after the setup script on first use). */
  script(a: ResponseAction, reverse: boolean, now: number): string | undefined {
    const ip = textArg(a.args, "ip") ?? "";
    if (a.action === "block_ip")
      return reverse
        ? nftUnblockScript(ip, this.table)
        : nftBlockScript(ip, ((a.until ?? now + 3_600_000) - now) / 1000, this.table);
    if (a.action === "unblock_ip" && !reverse) return nftUnblockScript(ip, this.table);
    return undefined;
  }

  describe(a: ResponseAction): string {
    try {
      return this.script(a, false, 0)?.trim().split("\n").pop() ?? "nothing";
    } catch (err) {
      return (err as Error).message;
    }
  }

  private async apply(a: ResponseAction, reverse: boolean, ctx: ResponseContext): Promise<ActionOutcome> {
    const script = this.script(a, reverse, ctx.now);
    if (script === undefined)
      return {
        status: "skipped",
        reason: reverse ? "nothing to undo" : `nftables does not handle ${a.action}`,
      };
    if (!this.setUp) {
      await this.run(nftSetupScript(this.table), ctx.signal);
      this.setUp = true;
    }
    await this.run(script, ctx.signal);
    return { status: "done", detail: script.trim().split("\n").pop() ?? "" };
  }

  execute(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    return this.apply(a, false, ctx);
  }

  reverse(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    return this.apply(a, true, ctx);
  }
}
