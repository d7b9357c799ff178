import { describe, expect, test } from "vitest";
import { leafValues, parseApiEvent } from "./api-event.js";
import { createDecoder } from "./index.js";

describe("API event parser", () => {
  test("maps an API event to ECS, with the outbound payload's values and session timings", () => {
    const r = parseApiEvent(
      JSON.stringify({
        timestamp: "2024-05-06T10:00:00Z",
        id: "req-1",
        service: "accounts",
        method: "post",
        path: "/v1/users/%7Bid%7D",
        query: { expand: "cards" },
        status: 200,
        client_ip: "203.0.113.4",
        user: "alice",
        api_key_id: "key-9",
        user_agent: "app/1.0",
        request_body: { name: "x" },
        response_body: { card: "4111 1111 1111 1111", owner: { ssn: "123-45-6789" }, n: 5 },
        bytes_out: 512,
        session: { id: "s1", start: "2024-05-06T01:00:00Z", last_activity: "2024-05-06T09:20:00Z" },
      }),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.id).toBe("req-1");
    expect(r.fields).toMatchObject({
      "event.category": ["web"],
      "event.dataset": "api.event",
      "service.name": "accounts",
      "http.request.method": "POST",
      "url.path": "/v1/users/{id}",
      "url.query": "expand=cards",
      "http.response.status_code": 200,
      "event.outcome": "success",
      "source.ip": "203.0.113.4",
      "user.name": "alice",
      "api_key.id": "key-9",
      "http.response.body.bytes": 512,
      "network.direction": "ingress",
      "payload.outbound": ["4111 1111 1111 1111", "123-45-6789", "5"],
      "session.age_ms": 9 * 3_600_000,
      "session.idle_ms": 40 * 60_000,
    });
  });

  test("an outbound call: the request body is what leaves", () => {
    const r = parseApiEvent('{"time": 1714989600000, "direction": "outbound", "request_body": "token=abc", "response_body": {"ok": true}, "status": 502}');
    expect(r.ok && r.fields).toMatchObject({ "network.direction": "egress", "payload.outbound": ["token=abc"], "event.outcome": "failure" });
  });

  test("an ECS event is kept, with the derived fields added", () => {
    const r = parseApiEvent('{"@timestamp": "2024-05-06T10:00:00Z", "event": {"category": ["web"]}, "http.response.body.content": "{\\"a\\": [\\"x\\", 1]}", "session.start": "2024-05-06T09:00:00Z"}');
    expect(r.ok && r.fields).toMatchObject({ "payload.outbound": ["x", "1"], "session.age_ms": 3_600_000, event: { category: ["web"] } });
  });

  test("errors: not JSON, not an object, no time, bad time", () => {
    expect(parseApiEvent("{")).toMatchObject({ ok: false, reason: "invalid_json" });
    expect(parseApiEvent("[1]")).toMatchObject({ ok: false, reason: "not_an_object" });
    expect(parseApiEvent('{"path": "/"}')).toMatchObject({ ok: false, reason: "missing_timestamp" });
    expect(parseApiEvent('{"time": "yesterday"}')).toMatchObject({ ok: false, reason: "bad_timestamp" });
  });

  test("leaf values are capped", () => {
    expect(leafValues({ a: Array.from({ length: 1000 }, (_, i) => i) })).toHaveLength(256);
  });

  test("--format api gives event ids from the source when the event has none", () => {
    const d = createDecoder("api", { source: "/logs/api.jsonl" });
    const r = d.decode('{"time": "2024-05-06T10:00:00Z", "path": "/x"}', 3);
    expect(r.ok && r.events[0]?.["event.id"]).toMatch(/^api\.jsonl:3-[0-9a-f]{8}$/);
    const own = d.decode('{"time": "2024-05-06T10:00:00Z", "id": "r-7"}', 4);
    expect(own.ok && own.events[0]?.["event.id"]).toBe("r-7");
  });
});
