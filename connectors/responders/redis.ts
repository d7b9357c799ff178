/**
 * Blocks and account controls published in Redis, where the platform's gateways and auth
 * service read them:
 * - `<prefix>blocked-ips`: a sorted set, member the address, score its expiry (epoch ms);
 *   readers treat members whose score has passed as unblocked (each block also prunes them);
 * - `<prefix>locked:<account>`: present while the account is locked (TTL = the lock);
 * - `<prefix>mfa-required:<account>`: present while a second factor is required (TTL when
 *   the action has a duration, none when it is until cleared).
 * Key values are JSON `{action_id, alert_id, until}` so a reversal only removes its own.
 */
import type { Redis } from "ioredis";
import type { ActionOutcome, Responder, ResponseAction, ResponseContext } from "../../engine/response.js";
import { canonicalIp, textArg } from "./args.js";
import { PermanentError } from "./resilience.js";

export const DEFAULT_REDIS_PREFIX = "security:";

/** Adds (or extends: the later expiry wins) a block and prunes expired ones. KEYS[1] set; ARGV now, until, ip. */
const BLOCK = `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return redis.call('ZADD', KEYS[1], 'GT', 'CH', ARGV[2], ARGV[3])`;

/** Removes a block unless a later block superseded it. ARGV until, ip. */
const UNBLOCK_OWN = `local s = redis.call('ZSCORE', KEYS[1], ARGV[2])
if s and tonumber(s) <= tonumber(ARGV[1]) then return redis.call('ZREM', KEYS[1], ARGV[2]) end
return 0`;

/** Deletes a key only when it holds this action's id. ARGV action id. */
const DEL_OWN = `local v = redis.call('GET', KEYS[1])
if v and string.find(v, ARGV[1], 1, true) then return redis.call('DEL', KEYS[1]) end
return 0`;

const MAX_ACCOUNT = 256;

export interface RedisResponderOptions {
  /** Key prefix, default `security:`. */
  readonly prefix?: string;
}

export class RedisResponder implements Responder {
  readonly kind = "redis";
  readonly actions = ["block_ip", "unblock_ip", "lock_account", "unlock_account", "require_mfa"] as const;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    opts: RedisResponderOptions = {},
  ) {
    this.prefix = opts.prefix ?? DEFAULT_REDIS_PREFIX;
  }

  get blockedKey(): string {
    return `${this.prefix}blocked-ips`;
  }
  lockedKey(account: string): string {
    return `${this.prefix}locked:${account}`;
  }
  mfaKey(account: string): string {
    return `${this.prefix}mfa-required:${account}`;
  }

  private ready(): void {
    if (this.redis.status !== "ready") throw new Error(`redis not connected (${this.redis.status})`);
  }

  private ip(a: ResponseAction): string {
    const ip = canonicalIp(textArg(a.args, "ip"));
    if (ip === undefined) throw new PermanentError(`not an address: ${JSON.stringify(a.args.ip)}`);
    return ip;
  }

  private account(a: ResponseAction): string {
    const acct = textArg(a.args, "account");
    if (acct === undefined || acct.length > MAX_ACCOUNT)
      throw new PermanentError(`not an account name: ${JSON.stringify(a.args.account)}`);
    return acct;
  }

  private value(a: ResponseAction): string {
    return JSON.stringify({ action_id: a.id, alert_id: a.alert_id, until: a.until });
  }

  describe(a: ResponseAction): string {
    switch (a.action) {
      case "block_ip":
        return `ZADD ${this.blockedKey} <now+duration> ${textArg(a.args, "ip") ?? "?"}`;
      case "unblock_ip":
        return `ZREM ${this.blockedKey} ${textArg(a.args, "ip") ?? "?"}`;
      case "lock_account":
        return `SET ${this.lockedKey(textArg(a.args, "account") ?? "?")} PX <duration>`;
      case "unlock_account":
        return `DEL ${this.lockedKey(textArg(a.args, "account") ?? "?")}`;
      default:
        return `SET ${this.mfaKey(textArg(a.args, "account") ?? "?")}`;
    }
  }

  async execute(a: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome> {
    this.ready();
    switch (a.action) {
      case "block_ip": {
        const ip = this.ip(a);
        const until = a.until ?? ctx.now + 3_600_000;
        const changed = Number(await this.redis.eval(BLOCK, 1, this.blockedKey, ctx.now, until, ip));
        return {
          status: "done",
          detail:
            changed === 1
              ? `${ip} blocked until ${new Date(until).toISOString()}`
              : `${ip} already blocked at least until ${new Date(until).toISOString()}`,
        };
      }
      case "unblock_ip": {
        const ip = this.ip(a);
        const n = await this.redis.zrem(this.blockedKey, ip);
        return { status: "done", detail: n === 1 ? `${ip} unblocked` : `${ip} was not blocked` };
      }
      case "lock_account":
      case "require_mfa": {
        const acct = this.account(a);
        const key = a.action === "lock_account" ? this.lockedKey(acct) : this.mfaKey(acct);
        if (a.until === null) await this.redis.set(key, this.value(a));
        else {
          const ttl = Math.max(1, a.until - ctx.now);
          await this.redis.set(key, this.value(a), "PX", ttl);
        }
        return {
          status: "done",
          detail: `${key} set${a.until === null ? " until cleared" : ` until ${new Date(a.until).toISOString()}`}`,
        };
      }
      case "unlock_account": {
        const acct = this.account(a);
        const n = await this.redis.del(this.lockedKey(acct));
        return { status: "done", detail: n === 1 ? `${acct} unlocked` : `${acct} was not locked` };
      }
      default:
        return { status: "skipped", reason: `redis does not handle ${a.action}` };
    }
  }

  async reverse(a: ResponseAction): Promise<ActionOutcome> {
    this.ready();
    switch (a.action) {
      case "block_ip": {
        const ip = this.ip(a);
        const n = Number(
          await this.redis.eval(UNBLOCK_OWN, 1, this.blockedKey, a.until ?? Number.MAX_SAFE_INTEGER, ip),
        );
        return {
          status: "done",
          detail: n === 1 ? `${ip} unblocked` : `${ip} no longer blocked by this action`,
        };
      }
      case "lock_account":
      case "require_mfa": {
        const acct = this.account(a);
        const key = a.action === "lock_account" ? this.lockedKey(acct) : this.mfaKey(acct);
        const n = Number(await this.redis.eval(DEL_OWN, 1, key, a.id));
        return {
          status: "done",
          detail: n === 1 ? `${key} removed` : `${key} no longer held by this action`,
        };
      }
      default:
        return { status: "skipped", reason: "nothing to undo" };
    }
  }
}
