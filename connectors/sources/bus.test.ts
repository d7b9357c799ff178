import { describe, expect, test } from "vitest";
import type { EngineEvent } from "../../engine/index.js";
import { EmbeddedBus } from "./bus.js";

const ev = (i: number): EngineEvent => ({ id: `e${i}`, ts: i, seq: i, fields: {} });
const never = new AbortController().signal;

describe("the embedded bus", () => {
  test("batches come out in publish order and the bus ends after its producers", async () => {
    const bus = new EmbeddedBus({ maxQueuedEvents: 100, waitMs: 10 });
    const p = bus.producer();
    bus.seal();
    await p.publish([ev(1), ev(2)], []);
    await p.publish([ev(3)], []);
    const b = await bus.next(never);
    expect(b?.events.map((e) => e.id)).toEqual(["e1", "e2", "e3"]);
    expect(b?.position).toBe(2);
    p.end();
    expect(await bus.next(never)).toBeUndefined();
  });

  test("an idle bus returns an empty batch after its wait; a full one makes producers wait", async () => {
    const bus = new EmbeddedBus({ maxQueuedEvents: 3, waitMs: 10 });
    const p = bus.producer();
    const empty = await bus.next(never);
    expect(empty).toMatchObject({ events: [], dead: [] });
    await p.publish([ev(1), ev(2)], []);
    let second = false;
    const pending = p.publish([ev(3), ev(4)], []).then(() => (second = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBe(false); // 2 queued + 2 > 3: waits
    expect((await bus.next(never))?.events).toHaveLength(2);
    await pending;
    expect(second).toBe(true);
    expect((await bus.next(never))?.events.map((e) => e.id)).toEqual(["e3", "e4"]);
  });

  test("publishAndWait resolves once the batch is acknowledged", async () => {
    const bus = new EmbeddedBus({ maxQueuedEvents: 10, waitMs: 10 });
    const p = bus.producer();
    let acked = false;
    const w = p.publishAndWait([ev(1)], []).then(() => (acked = true));
    const b = await bus.next(never);
    await new Promise((r) => setTimeout(r, 5));
    expect(acked).toBe(false);
    b?.ack();
    await w;
    expect(acked).toBe(true);
  });

  test("next returns promptly when the signal aborts", async () => {
    const bus = new EmbeddedBus({ maxQueuedEvents: 10, waitMs: 60_000 });
    bus.producer();
    const c = new AbortController();
    const t0 = Date.now();
    setTimeout(() => c.abort(), 20);
    const b = await bus.next(c.signal);
    expect(b?.events).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
