import { describe, expect, test } from "vitest";
import { decodeMessage } from "./decode.js";

const enc = (s: string) => new TextEncoder().encode(s);
const SUBJ = "security.events.sshd.authentication";

describe("decodeMessage", () => {
  test("one event a message: its own id, its time, the stream sequence as order and position", () => {
    const d = decodeMessage(enc('{"@timestamp":"2024-05-01T12:00:00Z","event.id":"x1","user":{"name":"alice"}}'), SUBJ, 7);
    expect(d.dead).toEqual([]);
    expect(d.events).toEqual([{ id: "x1", ts: Date.UTC(2024, 4, 1, 12), seq: 7 * 65_536 + 1, fields: { "@timestamp": "2024-05-01T12:00:00Z", "event.id": "x1", user: { name: "alice" } }, source: SUBJ, position: 7 }]);
  });

  test("NDJSON: good events around bad lines are kept; each bad line is dead-lettered with its reason", () => {
    const text = ['{"@timestamp":1714564800000}', "not json", "", '["an","array"]', '{"no":"time"}', '  {"@timestamp":"2024-05-01T12:00:01Z","event":{"id":"nested"}}  '].join("\n");
    const d = decodeMessage(enc(text), SUBJ, 3);
    expect(d.events.map((e) => [e.id, e.ts, e.seq])).toEqual([
      [`${SUBJ}#3`, 1714564800000, 3 * 65_536 + 1],
      ["nested", Date.UTC(2024, 4, 1, 12, 0, 1), 3 * 65_536 + 5],
    ]);
    expect(d.dead.map((x) => [x.reason, new TextDecoder().decode(x.data), x.origin, x.position])).toEqual([
      ["invalid_json", "not json", SUBJ, 3],
      ["not_an_object", '["an","array"]', SUBJ, 3],
      ["missing_timestamp", '{"no":"time"}', SUBJ, 3],
    ]);
  });

  test("a message that is not UTF-8, too large, or holds too many events", () => {
    expect(decodeMessage(new Uint8Array([0x7b, 0xff, 0x7d]), SUBJ, 1).dead.map((x) => x.reason)).toEqual(["invalid_utf8"]);
    expect(decodeMessage(enc('{"@timestamp":1}'), SUBJ, 1, { maxMessageBytes: 4, maxEventsPerMessage: 10 }).dead.map((x) => x.reason)).toEqual(["too_large"]);
    const three = decodeMessage(enc('{"@timestamp":1}\n{"@timestamp":2}\n{"@timestamp":3}'), SUBJ, 1, { maxMessageBytes: 1000, maxEventsPerMessage: 2 });
    expect(three.events.map((e) => e.ts)).toEqual([1, 2]);
    expect(three.dead.map((x) => x.reason)).toEqual(["too_many_events"]);
  });
});
