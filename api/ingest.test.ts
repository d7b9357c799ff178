import { describe, expect, it } from "vitest";
import { createDecodingIngest, type IngestedEvent } from "./ingest.js";

const actor = { kind: "api_key", id: "k1" } as const;

describe("createDecodingIngest", () => {
  const got: IngestedEvent[][] = [];
  const ingest = createDecodingIngest({
    deliver: (events) => {
      got.push(events);
      return Promise.resolve();
    },
  });

  it("delivers the good events of a request in one call and numbers the bad lines", async () => {
    got.length = 0;
    const body = Buffer.from('{"@timestamp":"2026-01-01T00:00:00Z"}\r\n\n[1]\n{"@timestamp":"2026-01-01T00:00:01Z","event":{"id":"e2"}}');
    const r = await ingest.ingest(body, "application/x-ndjson", actor);
    expect(r.accepted).toBe(2);
    // The blank line 2 is skipped, as in files.
    expect(r.rejected.map((x) => x.line)).toEqual([3]);
    expect(r.rejected[0]?.reason).toMatch(/^not_an_object/);
    expect(got).toHaveLength(1);
    expect(got[0]?.[1]?.fields).toMatchObject({ event: { id: "e2" } });
    expect(got[0]?.map((e) => [e.id, e.line, e.ts])).toEqual([
      [got[0]?.[0]?.fields["event.id"], 1, Date.parse("2026-01-01T00:00:00Z")],
      ["e2", 4, Date.parse("2026-01-01T00:00:01Z")],
    ]);
    // An event without an id gets a deterministic one from its source and line.
    expect(got[0]?.[0]?.id).toMatch(/^api:1-/);
  });

  it("reports refusals to onRejected with a reason code, skips a byte-order mark, and refuses a request without events", async () => {
    const seen: string[] = [];
    const counted = createDecodingIngest({ deliver: () => Promise.resolve(), onRejected: (r) => seen.push(...r.map((x) => x.reason.split(":")[0] ?? "")) });
    expect(await counted.ingest(Buffer.from('\uFEFF{"@timestamp":1}\n{"x":1}\n'), "application/x-ndjson", actor)).toMatchObject({ accepted: 1, rejected: [{ line: 2 }] });
    expect(await counted.ingest(Buffer.from("{nope"), "application/json", actor)).toMatchObject({ accepted: 0, rejected: [{ line: 1 }] });
    expect(await counted.ingest(Buffer.from("[]"), "application/json", actor)).toMatchObject({ accepted: 0, rejected: [{ line: 1 }] });
    expect(await counted.ingest(Buffer.from("\n\n"), "application/x-ndjson", actor)).toMatchObject({ accepted: 0, rejected: [{ line: 1 }] });
    expect(seen).toEqual(["missing_timestamp", "invalid_json", "no_events", "no_events"]);
  });

  it("reads an epoch-millisecond @timestamp as files do, not as a year", async () => {
    got.length = 0;
    await ingest.ingest(Buffer.from('{"@timestamp":12345}\n{"@timestamp":1767225600000}\n'), "application/x-ndjson", actor);
    expect(got[0]?.map((e) => e.ts)).toEqual([12_345, 1_767_225_600_000]);
  });

  it("takes a JSON document or array; an unparseable one is one rejection", async () => {
    expect(await ingest.ingest(Buffer.from('{"@timestamp":1}'), "application/json", actor)).toEqual({ accepted: 1, rejected: [] });
    const arr = await ingest.ingest(Buffer.from('[{"@timestamp":1},"x",{"@timestamp":"never"}]'), "application/json", actor);
    expect(arr.accepted).toBe(1);
    expect(arr.rejected.map((x) => [x.line, x.reason.split(":")[0]])).toEqual([
      [2, "not_an_object"],
      [3, "bad_timestamp"],
    ]);
    const bad = await ingest.ingest(Buffer.from("[{"), "application/json", actor);
    expect(bad).toMatchObject({ accepted: 0, rejected: [{ line: 1, reason: expect.stringMatching(/^invalid_json: /) as unknown }] });
  });

  it("refuses an event dated beyond the future skew, listing it, and takes the rest", async () => {
    const now = Date.parse("2026-06-01T12:00:00Z");
    const delivered: IngestedEvent[] = [];
    const skewed = createDecodingIngest({
      now: () => now,
      futureSkewMs: () => 300_000,
      deliver: (events) => {
        delivered.push(...events);
        return Promise.resolve();
      },
    });
    const body = ['{"@timestamp":"2026-06-01T12:04:59Z"}', '{"@timestamp":"2099-01-01T00:00:00Z"}', '{"@timestamp":"2026-06-01T11:00:00Z"}'].join("\n");
    const r = await skewed.ingest(Buffer.from(body), "application/x-ndjson", actor);
    expect(r).toEqual({
      accepted: 2,
      rejected: [{ line: 2, reason: "future_timestamp: event time 2099-01-01T00:00:00.000Z is more than 300s ahead of the clock (2026-06-01T12:00:00.000Z)" }],
    });
    expect(delivered.map((e) => e.line)).toEqual([1, 3]);
  });

  it("refuses an over-long line without delivering anything for it", async () => {
    got.length = 0;
    const r = await ingest.ingest(Buffer.from(`{"@timestamp":1,"m":"${"x".repeat(70_000)}"}\n`), "application/x-ndjson", actor);
    expect(r).toMatchObject({ accepted: 0, rejected: [{ line: 1, reason: expect.stringMatching(/^line_too_long/) as unknown }] });
    expect(got).toHaveLength(0);
  });
});
