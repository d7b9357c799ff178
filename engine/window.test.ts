import fc from "fast-check";
import { expect, test } from "vitest";
import type { EngineEvent } from "./event.js";
import { SlidingWindow, type WindowKind } from "./window.js";

/** The naive model: every entry kept in (ts, seq) order, evicted by the newest minus the window. */
function model(adds: readonly { ts: number; v: number }[], windowMs: number): { ts: number; seq: number; v: number }[] {
  let items: { ts: number; seq: number; v: number }[] = [];
  adds.forEach((a, seq) => {
    items.push({ ts: a.ts, seq, v: a.v });
    items.sort((x, y) => x.ts - y.ts || x.seq - y.seq);
    const newest = (items[items.length - 1] as { ts: number }).ts;
    items = items.filter((e) => e.ts >= newest - windowMs);
  });
  return items;
}

test("property: a window's entries and aggregates equal a naive recomputation", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ dt: fc.integer({ min: -3, max: 5 }), v: fc.integer({ min: 0, max: 12 }) }), { maxLength: 120 }),
      fc.integer({ min: 0, max: 20 }),
      fc.constantFrom<WindowKind>("count", "number", "distinct"),
      (steps, windowMs, kind) => {
        const w = new SlidingWindow(kind, [], "k", 0);
        let ts = 0;
        const adds: { ts: number; v: number }[] = [];
        steps.forEach((s, seq) => {
          ts = Math.max(0, ts + s.dt);
          adds.push({ ts, v: s.v });
          const ev: EngineEvent = { id: `e${seq}`, ts, seq, fields: {} };
          w.add(ev, kind === "count" ? undefined : kind === "distinct" ? `d${s.v % 10}` : s.v, windowMs);
          const want = model(adds, windowMs);
          expect(w.size).toBe(want.length);
          expect(w.entries().map((e) => [e.ts, e.seq, e.event.id])).toEqual(want.map((e) => [e.ts, e.seq, `e${e.seq}`]));
          if (kind === "distinct") expect(w.distinctCount()).toBe(new Set(want.map((e) => e.v % 10)).size);
          if (kind === "number") {
            expect(w.total()).toBe(want.reduce((a, e) => a + e.v, 0));
            expect(w.min()).toBe(Math.min(...want.map((e) => e.v)));
            expect(w.max()).toBe(Math.max(...want.map((e) => e.v)));
          }
        });
      },
    ),
    { numRuns: 300 },
  );
});

test("property: epoch-millisecond and fractional times come back exactly (times are stored relative to the window)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(0, 1_733_000_000_000, 0.1, 1_733_000_000_000.25),
      fc.array(fc.record({ dt: fc.integer({ min: -3, max: 5 }), frac: fc.constantFrom(0, 0, 0.1, 0.3) }), { maxLength: 60 }),
      fc.integer({ min: 0, max: 20 }),
      (start, steps, windowMs) => {
        const w = new SlidingWindow("number", [], "k", 0);
        let ts = start;
        const adds: { ts: number; v: number }[] = [];
        steps.forEach((s, seq) => {
          ts = Math.max(start, ts + s.dt) + s.frac;
          adds.push({ ts, v: seq });
          w.add({ id: `e${seq}`, ts, seq, fields: {} }, seq, windowMs);
          const want = model(adds, windowMs);
          expect(w.entries().map((e) => [e.ts, e.seq])).toEqual(want.map((e) => [e.ts, e.seq]));
          expect(w.newestTs).toBe(want[want.length - 1]?.ts);
        });
      },
    ),
    { numRuns: 300 },
  );
});

test("times far apart (beyond the window's rebase distance) come back exactly", () => {
  const w = new SlidingWindow("count", [], "k", 1_733_000_000_000);
  const times = [1_733_000_000_000, 1_733_000_000_000 + 2 ** 30 + 7, 1_733_000_000_000 + 2 ** 31 + 3, 1_733_000_000_000 + 2 ** 31 + 2];
  times.forEach((ts, seq) => w.add({ id: `e${seq}`, ts, seq, fields: {} }, undefined, 2 ** 33));
  expect(w.entries().map((e) => e.ts)).toEqual([times[0], times[1], times[3], times[2]]);
  w.queuedAt = times[2] as number;
  expect(w.queuedAt).toBe(times[2]);
  expect(w.newestTs).toBe(times[2]);
});
