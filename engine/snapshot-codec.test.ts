import { describe, expect, test } from "vitest";
import type { EngineEvent } from "./event.js";
import { EventDecoder, EventEncoder } from "./snapshot-codec.js";

const ev = (id: string, ts: number, seq: number, fields: Record<string, unknown> = {}): EngineEvent => ({ id, ts, seq, fields, source: "f.log", position: seq });

describe("snapshot codec", () => {
  test("one stored event per identity (id, time, seq); events that share a seq but differ are kept apart", () => {
    const enc = new EventEncoder();
    const full = ev("a", 10, 1, { "user.name": "alice" });
    const a = enc.ref(full);
    // A window entry of the same event (another object, evidence only) shares the full one.
    expect(enc.refEvidence(ev("a", 10, 1))).toBe(a);
    // Same seq, another id or time (e.g. the events of one multi-event message): stored apart.
    const b = enc.refEvidence(ev("b", 10, 1));
    const c = enc.refEvidence(ev("a", 11, 1));
    expect(new Set([a, b, c]).size).toBe(3);
    expect(enc.refEvidence(ev("b", 10, 1))).toBe(b);
    expect(enc.refEvidence(ev("a", 11, 1))).toBe(c);
    const dec = new EventDecoder(enc.events);
    expect([a, b, c].map((i) => [dec.get(i).id, dec.get(i).ts, dec.get(i).seq])).toEqual([
      ["a", 10, 1],
      ["b", 10, 1],
      ["a", 11, 1],
    ]);
    expect(dec.get(a).fields).toEqual({ "user.name": "alice" });
  });
});
