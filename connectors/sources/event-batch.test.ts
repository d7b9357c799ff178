import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { EventFields } from "../../engine/event.js";
import { EventBatchReader, EventBatchWriter } from "./event-batch.js";

interface Sent {
  readonly fields: EventFields;
  readonly ts: number;
  readonly id: string;
  readonly line: number;
}

/** Sends events through a writer in batches of `per`, each batch structured-cloned as postMessage would. */
function roundTrip(events: readonly Sent[], per: number): Sent[] {
  const w = new EventBatchWriter();
  const r = new EventBatchReader();
  const out: Sent[] = [];
  const flush = () => r.read(structuredClone(w.take()), (fields, ts, id, line) => out.push({ fields, ts, id, line }));
  events.forEach((e, i) => {
    w.add(e.fields, e.ts, e.id, e.line);
    if ((i + 1) % per === 0) flush();
  });
  flush();
  return out;
}

/** Same keys in the same order, values equal (Object.is for primitives, so -0 and NaN too). */
function expectSame(got: readonly Sent[], want: readonly Sent[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i] as Sent;
    expect([g.ts, g.id, g.line]).toEqual([w.ts, w.id, w.line]);
    expect(Object.keys(g.fields)).toEqual(Object.keys(w.fields));
    for (const k of Object.keys(w.fields)) {
      const a = g.fields[k];
      const b = w.fields[k];
      if (typeof b === "object" && b !== null) expect(a).toStrictEqual(b);
      else expect(Object.is(a, b)).toBe(true);
    }
    expect(Object.getPrototypeOf(g.fields)).toBe(Object.prototype);
  });
}

const key = fc.oneof(
  fc.constantFrom("@timestamp", "event.id", "message", "source.ip", "user.name", "__proto__", "123", "0", "constructor", ""),
  fc.string({ maxLength: 12 }),
);
const value = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom("sshd", "authentication", "failure", "x".repeat(70)),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);
/** Fields built as JSON.parse builds them (own data properties, `__proto__` included). */
const fields = fc.array(fc.tuple(key, value), { maxLength: 12 }).map((entries) => {
  const o: EventFields = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  return o;
});

describe("event batches", () => {
  test.prop([fc.array(fc.record({ fields, ts: fc.double(), id: fc.string({ maxLength: 40 }), line: fc.nat() }), { maxLength: 40 }), fc.integer({ min: 1, max: 7 })])(
    "rebuild any events with the same keys, order and values",
    (events, per) => {
      expectSame(roundTrip(events, per), events);
    },
  );

  test.prop([fc.array(fc.oneof(fc.record({ fields, ts: fc.double(), id: fc.string({ maxLength: 40 }), line: fc.nat() }), fc.record({ ts: fc.double(), line: fc.nat() })), { maxLength: 40 }), fc.integer({ min: 1, max: 7 })])(
    "hand events sent by their time alone to onPass, in order among the others",
    (items, per) => {
      const w = new EventBatchWriter();
      const r = new EventBatchReader();
      const got: (Sent | { ts: number; line: number })[] = [];
      const flush = () =>
        r.read(
          structuredClone(w.take()),
          (fields, ts, id, line) => got.push({ fields, ts, id, line }),
          (ts, line) => got.push({ ts, line }),
        );
      items.forEach((e, i) => {
        if ("id" in e) w.add(e.fields, e.ts, e.id, e.line);
        else w.addPassed(e.ts, e.line);
        if ((i + 1) % per === 0) flush();
      });
      flush();
      expect(got.map((g) => "id" in g)).toEqual(items.map((e) => "id" in e));
      expect(got.map((g) => [g.ts, g.line])).toEqual(items.map((e) => [e.ts, e.line]));
      expectSame(got.filter((g): g is Sent => "id" in g), items.filter((e): e is Sent => "id" in e));
    },
  );

  it("refuses a batch with an event sent by its time alone when there is no onPass", () => {
    const w = new EventBatchWriter();
    w.addPassed(1, 1);
    expect(() => new EventBatchReader().read(w.take(), () => {})).toThrow(/onPass/);
  });

  it("keeps an event's id in event.id when the decoder put it there", () => {
    const events: Sent[] = Array.from({ length: 5 }, (_, i) => ({ fields: { "event.id": `f.log:${i}-0a`, message: "m" }, ts: i, id: `f.log:${i}-0a`, line: i + 1 }));
    expectSame(roundTrip(events, 2), events);
  });

  it("starts the dictionary over when it is full, without mixing up values", () => {
    // 80 fields of 900 values each: past the dictionary's 65,536 entries, no field varied enough to skip it.
    const events: Sent[] = [];
    for (let i = 0; i < 72_000; i++) events.push({ fields: { [`k${i % 80}`]: `v${i}`, same: "sshd" }, ts: i, id: String(i), line: i });
    expectSame(roundTrip(events, 5_000), events);
  });

  it("starts the shapes over past 4,096 of them (JSON events with ever new keys)", () => {
    const events: Sent[] = [];
    for (let i = 0; i < 9_000; i++) events.push({ fields: { "@timestamp": "t", [`k${i}`]: i, [`n${i % 3}`]: { a: [i] } }, ts: i, id: String(i), line: i });
    expectSame(roundTrip(events, 700), events);
  });

  it("rebuilds an event with 20,000 keys", () => {
    const fields: EventFields = {};
    for (let i = 0; i < 20_000; i++) fields[`f${i}`] = i % 2 === 0 ? i : `v${i}`;
    const events: Sent[] = [{ fields, ts: 1, id: "a", line: 1 }];
    expectSame(roundTrip(events, 1), events);
  });

  it("keeps a batch's earlier numbers when its buffer grows, between events and within one", () => {
    const events: Sent[] = [];
    for (let i = 0; i < 3_000; i++) {
      const fields: Record<string, unknown> = {};
      // Every 500th event has 300 numeric fields: the buffer grows in the middle of an event.
      const width = i % 500 === 250 ? 300 : 10;
      for (let f = 0; f < width; f++) fields[`n${f}`] = i * 1_000 + f + 0.5;
      events.push({ fields, ts: i, id: `e${i}`, line: i + 1 });
    }
    expectSame(roundTrip(events, 3_000), events);
  });

  it("sends a varied field without the dictionary, and still rebuilds it", () => {
    const events: Sent[] = [];
    for (let i = 0; i < 5_000; i++) events.push({ fields: { "source.ip": `10.0.${i >> 8}.${i & 255}`, "event.category": "authentication" }, ts: i, id: String(i), line: i });
    expectSame(roundTrip(events, 1_000), events);
  });

  test.prop([fc.array(fields, { maxLength: 30 }), fc.array(key, { maxLength: 6 }), fc.array(key, { maxLength: 6 }), fc.nat()])(
    "sends only the projected keys, in order, with their values (the projection may change between events)",
    (evs, keep1, keep2, at) => {
      const split = evs.length === 0 ? 0 : at % (evs.length + 1);
      const kept1 = new Set(keep1);
      const kept2 = new Set(keep2);
      const w = new EventBatchWriter();
      w.projectTo((k) => kept1.has(k));
      const r = new EventBatchReader();
      const out: Sent[] = [];
      evs.forEach((f, i) => {
        if (i === split) w.projectTo((k) => kept2.has(k));
        w.add(f, i, `id${i}`, i + 1);
      });
      r.read(structuredClone(w.take()), (f, ts, id, line) => out.push({ fields: f, ts, id, line }));
      const want = evs.map((f, i) => {
        const kept = i < split ? kept1 : kept2;
        const o: EventFields = {};
        for (const k of Object.keys(f)) if (kept.has(k)) Object.defineProperty(o, k, { value: f[k], writable: true, enumerable: true, configurable: true });
        return { fields: o, ts: i, id: `id${i}`, line: i + 1 };
      });
      expectSame(out, want);
    },
  );
});
