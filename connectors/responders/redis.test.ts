/** The Redis responder against the real Redis server, under a unique key prefix. */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ResponseAction } from "../../engine/response.js";
import { redisUrl, uniqueName } from "../../test/support/services.js";
import { RedisResponder } from "./redis.js";

let redis: Redis;
let prefix: string;
let r: RedisResponder;
const signal = new AbortController().signal;

beforeAll(async () => {
  redis = new Redis(redisUrl(), { lazyConnect: true });
  await redis.connect();
  prefix = `${uniqueName("vigil_resp")}:`;
  r = new RedisResponder(redis, { prefix });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

let n = 0;
const act = (action: string, args: Record<string, unknown>, until: number | null): ResponseAction => ({
  id: `act${++n}`,
  alert_id: "al1",
  incident_id: null,
  action,
  args,
  mode: "enforce",
  until,
});

describe("blocks in the sorted set", () => {
  test("member the canonical address, score its expiry in epoch ms; a later block extends, an earlier one does not shorten", async () => {
    const now = Date.now();
    const a = act("block_ip", { ip: "203.0.113.7" }, now + 3_600_000);
    expect(await r.execute(a, { alert: undefined, signal, now })).toMatchObject({ status: "done" });
    expect(Number(await redis.zscore(`${prefix}blocked-ips`, "203.0.113.7"))).toBe(now + 3_600_000);
    const shorter = act("block_ip", { ip: "203.0.113.7" }, now + 60_000);
    expect(await r.execute(shorter, { alert: undefined, signal, now })).toMatchObject({
      detail: expect.stringContaining("already blocked") as unknown,
    });
    expect(Number(await redis.zscore(`${prefix}blocked-ips`, "203.0.113.7"))).toBe(now + 3_600_000);
    await r.execute(act("block_ip", { ip: "2001:DB8:0:0::1" }, now + 7_200_000), {
      alert: undefined,
      signal,
      now,
    });
    expect(Number(await redis.zscore(`${prefix}blocked-ips`, "2001:db8::1"))).toBe(now + 7_200_000);
  });

  test("expired members are pruned on the next block", async () => {
    const now = Date.now();
    await redis.zadd(`${prefix}blocked-ips`, now - 1, "192.0.2.99");
    await r.execute(act("block_ip", { ip: "192.0.2.100" }, now + 1000), { alert: undefined, signal, now });
    expect(await redis.zscore(`${prefix}blocked-ips`, "192.0.2.99")).toBeNull();
  });

  test("reversal removes the block unless a later block superseded it; unblock_ip removes it", async () => {
    const now = Date.now();
    const first = act("block_ip", { ip: "198.18.0.1" }, now + 1000);
    await r.execute(first, { alert: undefined, signal, now });
    const later = act("block_ip", { ip: "198.18.0.1" }, now + 5000);
    await r.execute(later, { alert: undefined, signal, now });
    await r.reverse(first);
    expect(Number(await redis.zscore(`${prefix}blocked-ips`, "198.18.0.1"))).toBe(now + 5000);
    await r.reverse(later);
    expect(await redis.zscore(`${prefix}blocked-ips`, "198.18.0.1")).toBeNull();
    await r.execute(later, { alert: undefined, signal, now });
    await r.execute(act("unblock_ip", { ip: "198.18.0.1" }, null), { alert: undefined, signal, now });
    expect(await redis.zscore(`${prefix}blocked-ips`, "198.18.0.1")).toBeNull();
  });

  test("a non-address is refused for good (not retried), nothing written", async () => {
    await expect(
      r.execute(act("block_ip", { ip: "1.2.3.4; DEL x" }, Date.now() + 1000), {
        alert: undefined,
        signal,
        now: Date.now(),
      }),
    ).rejects.toMatchObject({ permanent: true });
  });
});

describe("accounts", () => {
  test("lock: a key with the lock's TTL that the auth service reads; reversal removes only its own lock", async () => {
    const now = Date.now();
    const lock = act("lock_account", { account: "alice" }, now + 300_000);
    await r.execute(lock, { alert: undefined, signal, now });
    const ttl = await redis.pttl(`${prefix}locked:alice`);
    expect(ttl).toBeGreaterThan(299_000);
    expect(ttl).toBeLessThanOrEqual(300_000);
    expect(JSON.parse((await redis.get(`${prefix}locked:alice`))!)).toEqual({
      action_id: lock.id,
      alert_id: "al1",
      until: now + 300_000,
    });
    const relock = act("lock_account", { account: "alice" }, now + 600_000);
    await r.execute(relock, { alert: undefined, signal, now });
    await r.reverse(lock);
    expect(await redis.exists(`${prefix}locked:alice`)).toBe(1);
    await r.reverse(relock);
    expect(await redis.exists(`${prefix}locked:alice`)).toBe(0);
  });

  test("require_mfa until cleared has no TTL; unlock_account deletes the lock", async () => {
    const now = Date.now();
    const mfa = act("require_mfa", { account: "bob" }, null);
    await r.execute(mfa, { alert: undefined, signal, now });
    expect(await redis.pttl(`${prefix}mfa-required:bob`)).toBe(-1);
    await r.reverse(mfa);
    expect(await redis.exists(`${prefix}mfa-required:bob`)).toBe(0);
    await r.execute(act("lock_account", { account: "bob" }, now + 300_000), {
      alert: undefined,
      signal,
      now,
    });
    await r.execute(act("unlock_account", { account: "bob" }, null), { alert: undefined, signal, now });
    expect(await redis.exists(`${prefix}locked:bob`)).toBe(0);
  });
});

test("Redis down: execute throws (so the dispatcher retries), never hangs", async () => {
  const down = new Redis("redis://127.0.0.1:1", {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  down.on("error", () => undefined);
  await down.connect().catch(() => undefined);
  const rr = new RedisResponder(down, { prefix });
  await expect(
    rr.execute(act("block_ip", { ip: "203.0.113.9" }, Date.now() + 1000), {
      alert: undefined,
      signal,
      now: Date.now(),
    }),
  ).rejects.toThrow(/redis not connected/);
  down.disconnect();
});
