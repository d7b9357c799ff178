import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { SlidingWindowLimiter } from "./rate-limit.js";

describe("SlidingWindowLimiter", () => {
  it("admits `limit` requests per window, then refuses with the wait until the oldest leaves", () => {
    let now = 1_000;
    const rl = new SlidingWindowLimiter({ limit: 3, windowMs: 1_000, now: () => now });
    expect(rl.take("a")).toEqual({ ok: true });
    now = 1_100;
    expect(rl.take("a")).toEqual({ ok: true });
    expect(rl.take("a")).toEqual({ ok: true });
    expect(rl.take("a")).toEqual({ ok: false, retryAfterMs: 1_000 - 100 });
    expect(rl.take("b")).toEqual({ ok: true });
    now = 2_000; // the first request (t=1000) has left the window (1000, 2000]
    expect(rl.take("a")).toEqual({ ok: true });
    expect(rl.take("a")).toEqual({ ok: false, retryAfterMs: 100 });
  });

  it("rejects a nonsensical configuration", () => {
    expect(() => new SlidingWindowLimiter({ limit: 0 })).toThrow(/≥ 1/);
    expect(() => new SlidingWindowLimiter({ limit: 5, windowMs: 0 })).toThrow(/> 0/);
  });

  it("forgets idle keys", () => {
    let now = 0;
    const rl = new SlidingWindowLimiter({ limit: 2, windowMs: 10, now: () => now });
    for (let i = 0; i < 1000; i++) rl.take(`k${i}`);
    now = 100;
    for (let i = 0; i < 100; i++) rl.take("hot");
    expect(rl.trackedKeys).toBe(1);
  });

  // Reference model: keep every admitted time; admit when fewer than `limit` lie in (now - W, now].
  test.prop([
    fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: 1, max: 50 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.constantFrom("a", "b", "c")), { maxLength: 200 }),
  ])("agrees with a keep-everything reference model", (limit, windowMs, steps) => {
    let now = 0;
    const rl = new SlidingWindowLimiter({ limit, windowMs, now: () => now });
    const admitted = new Map<string, number[]>();
    for (const [dt, key] of steps) {
      now += dt;
      const times = admitted.get(key) ?? [];
      const inWindow = times.filter((t) => t > now - windowMs).sort((x, y) => x - y);
      const expectOk = inWindow.length < limit;
      const got = rl.take(key);
      expect(got.ok).toBe(expectOk);
      if (expectOk) {
        times.push(now);
        admitted.set(key, times);
      } else if (!got.ok) {
        // The wait ends when the oldest of the last `limit` admitted leaves the window.
        const oldestCounted = inWindow[inWindow.length - limit] ?? 0;
        expect(got.retryAfterMs).toBe(oldestCounted + windowMs - now);
      }
    }
  });
});
