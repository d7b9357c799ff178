/**
 * `npm run bench -- response [--actions N]`: what automated response costs.
 * - The pipeline's share: `dispatch` (claim each action in the ledger, queue it) per alert,
 *   against the baseline of writing the same alerts to the incident store (PGlite in memory).
 * - End to end: block_ip actions carried out through the dispatcher by the Redis responder
 *   (claim, guards, ZADD, outcome) against the baseline of bare ZADD round trips to the same
 *   Redis (skipped when Redis is not reachable).
 */
import { Redis } from "ioredis";
import { ActionDispatcher } from "../connectors/responders/dispatcher.js";
import { Allowlist, RateCap } from "../connectors/responders/guards.js";
import { RedisResponder } from "../connectors/responders/redis.js";
import { openStore } from "../connectors/store/open.js";
import type { Alert } from "../engine/index.js";
import { fmtRate, fmtRatio, printTable } from "./table.js";

function alerts(n: number, tag: string, mode: "enforce" | "dry_run"): Alert[] {
  const out: Alert[] = [];
  for (let i = 0; i < n; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    out.push({
      id: `${tag}-${i}`,
      rule: "ssh_bruteforce",
      rule_version: "v1",
      title: "SSH brute force",
      severity: "high",
      risk: 70,
      tags: [],
      keys: { "source.address": ip },
      count: 5,
      value: undefined,
      first_event_at: "2026-01-01T00:00:00.000Z",
      last_event_at: "2026-01-01T00:01:00.000Z",
      fired_at: "2026-01-01T00:01:00.000Z",
      detected_at: "2026-01-01T00:01:01.000Z",
      evidence: { event_ids: [], origins: [], truncated: 0 },
      suppressed: 0,
      actions: [
        { action: "block_ip", mode, args: { ip: `198.18.${(i >> 8) & 255}.${i & 255}`, for: 3_600_000 } },
      ],
    });
  }
  return out;
}

export async function benchResponse(opts: { actions: number }): Promise<void> {
  const n = opts.actions;
  const store = await openStore({ databaseUrl: "memory://" });
  const allow = Allowlist.create({});
  if (!allow.ok) throw new Error(allow.error.message);
  const rows: string[][] = [];
  try {
    const base = alerts(n, "base", "dry_run");
    let t = performance.now();
    await store.write(base, []);
    const storeRate = n / ((performance.now() - t) / 1000);
    rows.push(["store.write (baseline)", fmtRate(storeRate), fmtRatio(1)]);

    const d = new ActionDispatcher({
      ledger: store.actions,
      audit: store.audit,
      responders: [],
      allowlist: allow.value,
      rateCap: new RateCap({}, 1e9),
    });
    t = performance.now();
    await d.dispatch(base);
    const dispatchRate = n / ((performance.now() - t) / 1000);
    await d.drain();
    rows.push([
      "dispatch: claim + queue (dry_run)",
      fmtRate(dispatchRate),
      fmtRatio(dispatchRate / storeRate),
    ]);

    const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    const reachable = await redis.connect().then(
      () => true,
      () => false,
    );
    if (reachable) {
      const prefix = `vigil_bench_${process.pid}:`;
      t = performance.now();
      for (let i = 0; i < n; i++)
        await redis.zadd(`${prefix}raw`, Date.now() + 3_600_000, `198.18.${(i >> 8) & 255}.${i & 255}`);
      const zaddRate = n / ((performance.now() - t) / 1000);
      rows.push(["ZADD round trips (baseline)", fmtRate(zaddRate), fmtRatio(1)]);
      const live = alerts(n, "live", "enforce");
      await store.write(live, []);
      const d2 = new ActionDispatcher({
        ledger: store.actions,
        audit: store.audit,
        responders: [new RedisResponder(redis, { prefix })],
        allowlist: allow.value,
        rateCap: new RateCap({}, 1e9),
        concurrency: 4,
      });
      t = performance.now();
      await d2.dispatch(live);
      await d2.drain();
      const doneRate = n / ((performance.now() - t) / 1000);
      rows.push([
        "block_ip via dispatcher + Redis, to outcome",
        fmtRate(doneRate),
        fmtRatio(doneRate / zaddRate),
      ]);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    } else {
      redis.disconnect();
      rows.push(["Redis rows skipped: Redis not reachable", "-", "-"]);
    }
  } finally {
    await store.close();
  }
  printTable(
    `response: ${n} actions (PGlite in memory; ratios against the baseline above each)`,
    ["step", "per s", "ratio"],
    rows,
  );
}
