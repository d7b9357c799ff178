import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { EventFields } from "../../engine/event.js";
import { fnv1a32 } from "./event-id.js";
import { createDecoder, type DecoderFormat } from "./index.js";

const LINES = [
  "Dec 10 09:11:08 gw1 sshd[24437]: Failed password for root from 203.0.113.40 port 58762 ssh2",
  "Mar  1 10:00:00 h1 sshd[12]: message repeated 3 times: [ Failed password for root from 192.0.2.1 port 22 ssh2]",
  '{"@timestamp":"2024-03-01T10:00:00Z","event":{"id":17}}',
  '{"@timestamp":"2024-03-01T10:00:00Z","message":"x"}',
  "Dec 10 09:11:08 gw1 sshd[24437]: Failed password for root from 203.0.113.40 port 58762 ssh2\r",
  "",
  "not a log line",
];

function collect(format: DecoderFormat, line: string, lineNo: number, hash: number) {
  const d = createDecoder(format, { source: "/var/log/auth.log", year: 2024 });
  const got: [EventFields, number, string][] = [];
  const failure = d.decodeTo(line, lineNo, hash, (f, ts, id) => got.push([f, ts, id]));
  return { failure, got };
}

describe("decodeTo", () => {
  it("hands the same events as decode to the sink, with their time and id", () => {
    for (const line of LINES) {
      const r = createDecoder("auto", { source: "/var/log/auth.log", year: 2024 }).decode(line, 7);
      for (const hash of [-1, fnv1a32(line)]) {
        const { failure, got } = collect("auto", line, 7, hash);
        if (!r.ok) {
          expect(failure).toEqual(r);
          expect(got).toEqual([]);
          continue;
        }
        expect(failure).toBeUndefined();
        expect(got.map(([f]) => f)).toEqual(r.events);
        for (const [f, ts, id] of got) {
          expect(id).toBe(f["event.id"]);
          expect(ts).toBe(r.ts);
        }
      }
    }
  });

  it("lets an error thrown by the sink propagate (it is not a decoder error)", () => {
    const d = createDecoder("sshd", { source: "auth.log", year: 2024 });
    const boom = new Error("sink failed");
    expect(() =>
      d.decodeTo(LINES[0] as string, 1, -1, () => {
        throw boom;
      }),
    ).toThrow(boom);
    // The decoder is still usable afterwards.
    expect(d.decode(LINES[0] as string, 2).ok).toBe(true);
  });

  test.prop([fc.string({ maxLength: 200 })])("a caller's hash of the line gives the ids the decoder computes itself", (s) => {
    const line = `Mar  1 10:00:00 h1 sshd[12]: ${s}`;
    const own = collect("sshd", line, 3, -1);
    const given = collect("sshd", line, 3, fnv1a32(line));
    expect(given.got.map(([, , id]) => id)).toEqual(own.got.map(([, , id]) => id));
  });

  it("hands the events a filter does not keep to its pass, without their ids, and the others as before", () => {
    const lines = [...LINES, "Dec 10 09:11:09 gw1 sshd[24437]: Connection closed by 203.0.113.40 port 58762 [preauth]"];
    const keep = (f: EventFields) => f["event.category"] === "authentication";
    for (const format of ["auto", "sshd"] as const) {
      for (const line of lines) {
        const all = collect(format, line, 5, -1);
        const d = createDecoder(format, { source: "/var/log/auth.log", year: 2024 });
        const got: [EventFields, number, string][] = [];
        const passed: number[] = [];
        const seen: unknown[] = [];
        const failure = d.decodeTo(line, 5, -1, (f, ts, id) => got.push([f, ts, id]), {
          keep: (f) => {
            seen.push(f["event.id"]);
            return keep(f);
          },
          pass: (ts) => passed.push(ts),
        });
        expect(failure).toEqual(all.failure);
        expect(got).toEqual(all.got.filter(([f]) => keep(f)));
        expect(passed).toEqual(all.got.filter(([f]) => !keep(f)).map(([, ts]) => ts));
        for (const [f, , id] of got) expect(f["event.id"]).toBe(id);
        // Syslog lines: decided once per line (a repeated line's copies alike), before the id exists.
        if (!line.startsWith("{") && all.got.length > 0) expect(seen).toEqual([""]);
      }
    }
  });
});
