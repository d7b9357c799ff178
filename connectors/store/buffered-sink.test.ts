// The buffered sink's queueing rules, over an in-process sink whose availability the test
// switches (the real-database outage is in outage.test.ts).
import { describe, expect, it } from "vitest";
import type { Alert } from "../../engine/index.js";
import type { AlertSink } from "../../engine/pipeline.js";
import { makeAlert } from "../../test/support/store-suite.js";
import { BufferedAlertSink, isPermanentDbError } from "./buffered-sink.js";

class FlakySink implements AlertSink {
  readonly name = "flaky";
  up = true;
  readonly stored = new Map<string, number>();
  readonly calls: string[][] = [];
  refuse = new Set<string>();
  async write(alerts: readonly Alert[], updates: readonly Alert[]): Promise<void> {
    await Promise.resolve();
    this.calls.push([...alerts, ...updates].map((a) => a.id));
    if (!this.up) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const bad = [...alerts, ...updates].find((a) => this.refuse.has(a.id));
    if (bad !== undefined) throw Object.assign(new Error(`invalid input for ${bad.id}`), { code: "22007" });
    for (const a of [...alerts, ...updates]) this.stored.set(a.id, Math.max(this.stored.get(a.id) ?? 0, a.suppressed));
  }
}

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("BufferedAlertSink", () => {
  it("acknowledges while the buffer has room, then holds writes until the sink is back", async () => {
    const inner = new FlakySink();
    inner.up = false;
    const sink = new BufferedAlertSink(inner, { maxBuffered: 3, initialRetryMs: 2, maxRetryMs: 10 });
    const a = [makeAlert({ id: "a1" }), makeAlert({ id: "a2" }), makeAlert({ id: "a3" }), makeAlert({ id: "a4" })];
    await sink.write([a[0]!, a[1]!], []); // room: resolves at once
    await sink.write([a[2]!], []);
    expect(sink.backpressure()).toBe(true);
    let resolved = false;
    const held = sink.write([a[3]!], []).then(() => (resolved = true));
    await tick(40);
    expect(resolved).toBe(false);
    expect(sink.stats().retries).toBeGreaterThan(0);
    expect(inner.stored.size).toBe(0);
    inner.up = true;
    await held;
    expect([...inner.stored.keys()]).toEqual(["a1", "a2", "a3", "a4"]);
    expect(sink.stats()).toMatchObject({ buffered: 0, written: 4, lastError: null, full: false });
  });

  it("waits for durability on every write in durable mode, and flush waits out an outage", async () => {
    const inner = new FlakySink();
    inner.up = false;
    const sink = new BufferedAlertSink(inner, { acknowledge: "durable", initialRetryMs: 2, maxRetryMs: 5 });
    let resolved = false;
    const w = sink.write([makeAlert({ id: "d1" })], [{ ...makeAlert({ id: "d0" }), suppressed: 4 }]).then(() => (resolved = true));
    const flushed = sink.flush();
    await tick(30);
    expect(resolved).toBe(false);
    inner.up = true;
    await Promise.all([w, flushed]);
    expect(inner.stored).toEqual(new Map([["d1", 0], ["d0", 4]]));
    await sink.close();
    await expect(sink.write([makeAlert()], [])).rejects.toThrow(/closed/);
  });

  it("hands an alert the database refuses to onRejected and writes the rest of its batch", async () => {
    const inner = new FlakySink();
    inner.refuse.add("bad");
    const rejected: string[] = [];
    const sink = new BufferedAlertSink(inner, { acknowledge: "durable", onRejected: (a) => rejected.push(a.id) });
    await expect(sink.write([makeAlert({ id: "ok1" }), makeAlert({ id: "bad" }), makeAlert({ id: "ok2" })], [])).rejects.toThrow(/invalid input for bad/);
    await sink.flush();
    expect(rejected).toEqual(["bad"]);
    expect([...inner.stored.keys()].sort()).toEqual(["ok1", "ok2"]);
    expect(sink.stats()).toMatchObject({ buffered: 0, rejected: 1 });
  });

  it("tells permanent database errors from connection errors", () => {
    expect(isPermanentDbError({ code: "23505" })).toBe(true);
    expect(isPermanentDbError({ code: "22P02" })).toBe(true);
    expect(isPermanentDbError({ code: "57P01" })).toBe(false);
    expect(isPermanentDbError({ code: "ECONNRESET" })).toBe(false);
    expect(isPermanentDbError(new Error("Connection terminated unexpectedly"))).toBe(false);
  });
});
