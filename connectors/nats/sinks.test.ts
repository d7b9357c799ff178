import type { JetStreamClient } from "@nats-io/jetstream";
import { expect, test } from "vitest";
import type { Alert } from "../../engine/index.js";
import { JetStreamAlertSink } from "./sinks.js";

function alert(i: number, suppressed = 0): Alert {
  return {
    id: `a${i}`,
    rule: "r",
    rule_version: "v",
    title: "t",
    severity: "high",
    risk: undefined,
    tags: [],
    keys: { "source.address": `10.0.0.${i}` },
    count: 5,
    value: undefined,
    first_event_at: "2026-01-01T00:00:00.000Z",
    last_event_at: "2026-01-01T00:00:01.000Z",
    fired_at: "2026-01-01T00:00:01.000Z",
    detected_at: "2026-01-01T00:00:01.000Z",
    evidence: { event_ids: [], origins: [], truncated: 0 },
    suppressed,
    actions: [],
  };
}

/** A JetStream client that records publishes; `fail(n)` rejects the n-th publish. */
function fakeJs(fail?: (n: number) => boolean): { js: JetStreamClient; published: { subject: string; msgID: string | undefined; update: boolean }[] } {
  const published: { subject: string; msgID: string | undefined; update: boolean }[] = [];
  const js = {
    publish(subject: string, _data: string, opts?: { msgID?: string; headers?: { get(k: string): string } }) {
      const n = published.length;
      published.push({ subject, msgID: opts?.msgID, update: opts?.headers?.get("Vigil-Update") === "suppressed" });
      return fail?.(n) === true ? Promise.reject(new Error(`publish ${n} failed`)) : Promise.resolve({ seq: n + 1 });
    },
  } as unknown as JetStreamClient;
  return { js, published };
}

test("count updates are published in slices: other work runs between them; every one is published, new alerts first", async () => {
  const { js, published } = fakeJs();
  const sink = new JetStreamAlertSink(js, "security.alerts", 0);
  const updates = Array.from({ length: 500 }, (_, i) => alert(i, i + 1));
  let publishedAtTurn = -1;
  setImmediate(() => (publishedAtTurn = published.length));
  await sink.write([alert(1000)], updates);
  expect(publishedAtTurn).toBeGreaterThan(0);
  expect(publishedAtTurn).toBeLessThan(501);
  expect(published).toHaveLength(501);
  expect(published[0]).toEqual({ subject: "security.alerts.high", msgID: "a1000", update: false });
  expect(published.slice(1).map((p) => p.msgID)).toEqual(updates.map((a) => `${a.id}:suppressed:${a.suppressed}`));
  expect(published.slice(1).every((p) => p.update)).toBe(true);
});

test("a publish that fails in an early slice fails the write (not an unhandled rejection)", async () => {
  const { js, published } = fakeJs((n) => n === 3);
  const sink = new JetStreamAlertSink(js, "security.alerts", 0);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => void unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    await expect(sink.write([], Array.from({ length: 300 }, (_, i) => alert(i, 1)))).rejects.toThrow("publish 3 failed");
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  expect(published).toHaveLength(300);
  expect(unhandled).toEqual([]);
});
