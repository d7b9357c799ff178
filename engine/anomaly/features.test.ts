import { describe, expect, it } from "vitest";
import type { EngineEvent, EventFields } from "../event.js";
import { columnsOf, FeatureEncoder, FeatureError, fnv1a } from "./features.js";
import { parseDurationMs, parseModelDefinition } from "./model-file.js";

const T0 = Date.UTC(2024, 0, 1); // a Monday, 00:00 UTC
let seq = 0;
const ev = (ts: number, fields: EventFields): EngineEvent => ({ id: `e${seq}`, ts, seq: seq++, fields });

describe("FeatureEncoder", () => {
  it("numeric fields: numbers and numeric strings; anything else is missing (NaN)", () => {
    const enc = new FeatureEncoder([{ name: "b", kind: "numeric", field: "network.bytes" }]);
    expect(enc.encode(ev(T0, { "network.bytes": 12 }))[0]).toBe(12);
    expect(enc.encode(ev(T0, { "network.bytes": " 7 " }))[0]).toBe(7);
    expect(enc.encode(ev(T0, { "network.bytes": "lots" }))[0]).toBeNaN();
    expect(enc.encode(ev(T0, {}))[0]).toBeNaN();
  });

  it("frequency encoding: the value's share of the training events, 0 when unseen", () => {
    const enc = new FeatureEncoder([{ name: "c", kind: "category", field: "geo", encoding: "frequency" }]);
    const state = enc.learn([ev(T0, { geo: "FR" }), ev(T0, { geo: "FR" }), ev(T0, { geo: "FR" }), ev(T0, { geo: "DE" })]);
    expect(state.frequencies).toEqual({ c: { FR: 0.75, DE: 0.25 } });
    expect(enc.encode(ev(T0, { geo: "FR" }))[0]).toBe(0.75);
    expect(enc.encode(ev(T0, { geo: "KP" }))[0]).toBe(0);
    // The learned state travels with the model.
    expect(new FeatureEncoder(enc.defs, state).encode(ev(T0, { geo: "DE" }))[0]).toBe(0.25);
  });

  it("hashing encoding: one-hot over the buckets, stable", () => {
    const enc = new FeatureEncoder([{ name: "h", kind: "category", field: "ua", encoding: "hash", buckets: 4 }]);
    expect(enc.columns).toEqual(["h#0", "h#1", "h#2", "h#3"]);
    const row = Array.from(enc.encode(ev(T0, { ua: "curl/8.0" })));
    expect(row.reduce((a, b) => a + b, 0)).toBe(1);
    expect(row[fnv1a("curl/8.0") % 4]).toBe(1);
    expect(Array.from(enc.encode(ev(T0, {})))).toEqual([0, 0, 0, 0]);
    // FNV-1a test vector: "a" → 0xe40c292c.
    expect(fnv1a("a")).toBe(0xe40c292c);
  });

  it("time features are cyclic: 23:00 is next to 00:00, Sunday next to Monday", () => {
    const enc = new FeatureEncoder([
      { name: "hour", kind: "hour_of_day" },
      { name: "dow", kind: "day_of_week" },
    ]);
    expect(enc.columns).toEqual(["hour.sin", "hour.cos", "dow.sin", "dow.cos"]);
    const at = (ts: number) => Array.from(enc.encode(ev(ts, {})));
    const dist = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - (b[i] as number)));
    const midnight = at(T0);
    expect(midnight[0]).toBeCloseTo(0, 12);
    expect(midnight[1]).toBeCloseTo(1, 12);
    const h23 = at(T0 - 3_600_000); // Sunday 23:00
    const noon = at(T0 + 12 * 3_600_000);
    expect(dist(h23.slice(0, 2), midnight.slice(0, 2))).toBeLessThan(dist(noon.slice(0, 2), midnight.slice(0, 2)));
    // Monday is ISO day 1, Sunday 7: neighbours on the circle.
    expect(dist(h23.slice(2), midnight.slice(2))).toBeCloseTo(2 * Math.sin(Math.PI / 7), 12);
  });

  it("per-key tumbling windows: events per minute per user, distinct IPs per user, bytes per service", () => {
    const enc = new FeatureEncoder([
      { name: "per_min", kind: "window", agg: "count", by: ["user.name"], windowMs: 60_000 },
      { name: "ips", kind: "window", agg: "distinct", field: "source.ip", by: ["user.name"], windowMs: 60_000 },
      { name: "bytes", kind: "window", agg: "sum", field: "bytes", by: ["service.name"], windowMs: 60_000 },
    ]);
    const row = (t: number, user: string, ip: string, svc: string, bytes: number) => Array.from(enc.encode(ev(T0 + t, { "user.name": user, "source.ip": ip, "service.name": svc, bytes })));
    expect(row(0, "alice", "1.1.1.1", "web", 100)).toEqual([1, 1, 100]);
    expect(row(10_000, "alice", "2.2.2.2", "web", 50)).toEqual([2, 2, 150]);
    expect(row(20_000, "bob", "1.1.1.1", "db", 5)).toEqual([1, 1, 5]);
    expect(row(59_999, "alice", "1.1.1.1", "web", 1)).toEqual([3, 2, 151]);
    // A new minute: the windows tumble.
    expect(row(60_000, "alice", "1.1.1.1", "web", 10)).toEqual([1, 1, 10]);
    expect(enc.liveKeys()).toBe(6);
    // No key: missing.
    expect(Array.from(enc.encode(ev(T0, {})))).toEqual([NaN, NaN, NaN]);
  });

  it("keeps at most maxKeys keys per window feature", () => {
    const enc = new FeatureEncoder([{ name: "n", kind: "window", agg: "count", by: ["u"], windowMs: 60_000 }], undefined, 3);
    for (let i = 0; i < 10; i++) enc.encode(ev(T0, { u: `u${i}` }));
    expect(enc.liveKeys()).toBe(3);
  });

  it("refuses a bad definition with a clear error", () => {
    expect(() => new FeatureEncoder([])).toThrow(FeatureError);
    expect(() => new FeatureEncoder([{ name: "a", kind: "numeric", field: "x" }, { name: "a", kind: "numeric", field: "y" }])).toThrow(/declared twice/);
    expect(() => new FeatureEncoder([{ name: "s", kind: "window", agg: "sum", by: ["u"], windowMs: 1000 }])).toThrow(/sum needs a field/);
    expect(columnsOf({ name: "x", kind: "numeric", field: "x" })).toEqual(["x"]);
  });
});

describe("model definition files", () => {
  it("parses every feature kind and fills defaults", () => {
    const d = parseModelDefinition({
      name: "m",
      features: [
        { name: "b", kind: "numeric", field: "bytes" },
        { name: "c", kind: "category", field: "geo" },
        { name: "h", kind: "category", field: "ua", encoding: "hash" },
        { name: "t", kind: "hour_of_day" },
        { name: "w", kind: "window", agg: "distinct", field: "source.ip", by: ["user.name"], window: "5m" },
      ],
    });
    expect(d).toMatchObject({ name: "m", trees: 100, sampleSize: 256, seed: 1 });
    expect(d.features[1]).toEqual({ name: "c", kind: "category", field: "geo", encoding: "frequency" });
    expect(d.features[2]).toMatchObject({ buckets: 8 });
    expect(d.features[4]).toMatchObject({ windowMs: 300_000 });
  });

  it("names the place of a mistake", () => {
    expect(() => parseModelDefinition({ name: "m", features: [{ name: "x", kind: "nope" }] }, "m.json")).toThrow(/m\.json: features\[0\]: "kind" must be one of/);
    expect(() => parseModelDefinition({ name: "m", features: [] })).toThrow(/"features" must be a non-empty array/);
    expect(() => parseModelDefinition({ name: "m", features: [{ name: "w", kind: "window", agg: "count", by: ["u"], window: "soon" }] })).toThrow(/features\[0\]\.window: expected a duration/);
    expect(() => parseModelDefinition({ name: "m", features: [{ name: "b", kind: "numeric", field: "x" }], trees: 0 })).toThrow(/"trees" must be a whole number/);
    expect(parseDurationMs("1h", "x")).toBe(3_600_000);
    expect(parseDurationMs("30s", "x")).toBe(30_000);
  });
});
