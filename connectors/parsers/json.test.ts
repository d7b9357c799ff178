import { describe, expect, it } from "vitest";
import { createDecoder } from "./index.js";
import { parseJsonEvent } from "./json.js";

describe("parseJsonEvent", () => {
  it("parses a dotted ECS event and keeps its event.id", () => {
    const r = parseJsonEvent('{"@timestamp":"2024-03-01T10:00:00.5+01:00","event.id":"abc-1","source.ip":"192.0.2.9","event.action":"ssh_failed_password"}');
    expect(r).toMatchObject({ ok: true, id: "abc-1", ts: Date.parse("2024-03-01T09:00:00.500Z") });
  });

  it("parses a nested ECS event and finds a nested event.id", () => {
    const r = parseJsonEvent('{"@timestamp":1709287200000,"event":{"id":"n-7","action":"x"},"source":{"ip":"2001:db8::5"}}');
    expect(r).toMatchObject({ ok: true, id: "n-7", ts: 1709287200000 });
  });

  it("rejects bad JSON with the parser's message", () => {
    const r = parseJsonEvent('{"@timestamp": "2024-03-01T10:00:00Z", ');
    expect(r).toMatchObject({ ok: false, reason: "invalid_json" });
    if (!r.ok) expect(r.message).toMatch(/^invalid JSON: .+/);
  });

  it("rejects non-objects", () => {
    for (const [line, kind] of [["[1,2]", "an array"], ["null", "null"], ["42", "a number"], ['"x"', "a string"], ["true", "a boolean"]] as const) {
      const r = parseJsonEvent(line);
      expect(r).toMatchObject({ ok: false, reason: "not_an_object" });
      if (!r.ok) expect(r.message).toContain(kind);
    }
  });

  it("requires a usable @timestamp", () => {
    expect(parseJsonEvent('{"message":"x"}')).toMatchObject({ ok: false, reason: "missing_timestamp" });
    expect(parseJsonEvent('{"@timestamp":"yesterday"}')).toMatchObject({ ok: false, reason: "bad_timestamp" });
    expect(parseJsonEvent('{"@timestamp":{"a":1}}')).toMatchObject({ ok: false, reason: "bad_timestamp" });
  });
});

describe("JSON decoding", () => {
  const d = createDecoder("json", { source: "/data/events.ndjson" });

  it("keeps an event's own id, derives one otherwise", () => {
    const own = d.decode('{"@timestamp":"2024-03-01T10:00:00Z","event.id":"abc-1"}', 1);
    expect(own).toMatchObject({ ok: true, events: [{ "event.id": "abc-1" }] });
    const nested = d.decode('{"@timestamp":"2024-03-01T10:00:00Z","event":{"id":"n-7"}}', 2);
    expect(nested.ok && nested.events[0]).toEqual({ "@timestamp": "2024-03-01T10:00:00Z", event: { id: "n-7" } });
    const derived = d.decode('{"@timestamp":"2024-03-01T10:00:00Z","message":"x"}', 3);
    expect(derived.ok && derived.events[0]?.["event.id"]).toMatch(/^events\.ndjson:3-[0-9a-f]{8}$/);
  });

  it("turns a numeric id into a string and replaces an unusable one", () => {
    const num = d.decode('{"@timestamp":"2024-03-01T10:00:00Z","event":{"id":17}}', 4);
    expect(num.ok && num.events[0]?.["event.id"]).toBe("17");
    const bad = d.decode('{"@timestamp":"2024-03-01T10:00:00Z","event.id":true}', 5);
    expect(bad.ok && bad.events[0]?.["event.id"]).toMatch(/^events\.ndjson:5-/);
  });

  it("fails a syslog line in json mode as invalid_json", () => {
    expect(d.decode("Dec 10 06:55:46 gw1 sshd[1]: x", 6)).toMatchObject({ ok: false, reason: "invalid_json" });
  });
});
