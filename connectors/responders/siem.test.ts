/**
 * SIEM forwarding against a local HTTP receiver that checks the wire formats: the
 * Elasticsearch bulk API (NDJSON action and document lines) and the Splunk HTTP Event
 * Collector (`Authorization: Splunk <token>`, one event object per alert). Batched, retried,
 * and never holding up the pipeline.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import type { Alert } from "../../engine/alert.js";
import { startReceiver, type HttpReceiver } from "../../test/support/http-receiver.js";
import { SiemForwarder } from "./siem.js";

let rx: HttpReceiver;
beforeAll(async () => {
  rx = await startReceiver();
});
afterAll(() => rx.close());
beforeEach(() => {
  rx.requests.length = 0;
  rx.reply = () => ({ status: 200, body: '{"errors":false,"items":[]}' });
});

const alert = (i: number): Alert => ({
  id: `alert${i}`,
  rule: "ssh_bruteforce",
  rule_version: "v1",
  title: "SSH brute force",
  severity: "high",
  risk: 70,
  tags: ["attack.t1110"],
  keys: { "source.address": `203.0.113.${i}` },
  count: 5,
  value: undefined,
  first_event_at: "2026-11-14T06:25:13.000Z",
  last_event_at: "2026-11-14T06:26:13.000Z",
  fired_at: `2026-11-14T06:26:${String(10 + i).padStart(2, "0")}.500Z`,
  detected_at: "2026-11-14T06:27:00.000Z",
  evidence: { event_ids: ["e1"], origins: [], truncated: 0 },
  suppressed: 0,
  actions: [],
});

/** Checks an Elasticsearch bulk body line by line; returns the documents. */
function parseBulk(body: string, index: string): Record<string, unknown>[] {
  expect(body.endsWith("\n")).toBe(true);
  const lines = body.slice(0, -1).split("\n");
  expect(lines.length % 2).toBe(0);
  const docs: Record<string, unknown>[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const action = JSON.parse(lines[i]!) as { index: { _index: string; _id: string } };
    const doc = JSON.parse(lines[i + 1]!) as Record<string, unknown>;
    expect(Object.keys(action)).toEqual(["index"]);
    expect(action.index).toEqual({ _index: index, _id: doc.id });
    expect(doc["@timestamp"]).toBe(doc.fired_at);
    docs.push(doc);
  }
  return docs;
}

test("Elasticsearch: bulk NDJSON in batches; write returns before anything is sent", async () => {
  const f = new SiemForwarder({
    target: { kind: "elasticsearch", url: `${rx.url}/es/`, index: "vigil-alerts", api_key: "k1" },
    batchSize: 2,
    flushMs: 60_000,
  });
  await f.write([alert(1)], []);
  expect(rx.requests).toHaveLength(0);
  await f.write([alert(2), alert(3)], []);
  await f.flush();
  expect(
    rx.requests.map((r) => [r.method, r.path, r.headers["content-type"], r.headers.authorization]),
  ).toEqual([
    ["POST", "/es/_bulk", "application/x-ndjson", "ApiKey k1"],
    ["POST", "/es/_bulk", "application/x-ndjson", "ApiKey k1"],
  ]);
  const docs = rx.requests.flatMap((r) => parseBulk(r.body, "vigil-alerts"));
  expect(docs.map((d) => d.id)).toEqual(["alert1", "alert2", "alert3"]);
  expect(docs[0]).toMatchObject({
    rule: "ssh_bruteforce",
    severity: "high",
    keys: { "source.address": "203.0.113.1" },
  });
  expect(f.stats).toEqual({ sent: 3, dropped: 0, failedRequests: 0 });
  await f.close();
});

test("Elasticsearch: items refused with 429 are re-sent, a 400 item is dropped and counted", async () => {
  rx.reply = (_req, n) =>
    n === 1
      ? {
          status: 200,
          body: JSON.stringify({
            errors: true,
            items: [
              { index: { status: 201 } },
              { index: { status: 429 } },
              { index: { status: 400, error: { type: "mapper_parsing_exception" } } },
            ],
          }),
        }
      : { status: 200, body: '{"errors":false}' };
  const f = new SiemForwarder({
    target: { kind: "elasticsearch", url: rx.url },
    retry: { baseMs: 1, maxMs: 1 },
  });
  await f.write([alert(1), alert(2), alert(3)], []);
  await f.flush();
  expect(rx.requests).toHaveLength(2);
  expect(parseBulk(rx.requests[1]!.body, "vigil-alerts").map((d) => d.id)).toEqual(["alert2"]);
  expect(f.stats).toMatchObject({ sent: 2, dropped: 1 });
});

test("Splunk HEC: token header, one event object per alert with epoch-second time", async () => {
  rx.reply = () => ({ status: 200, body: '{"text":"Success","code":0}' });
  const f = new SiemForwarder({
    target: { kind: "splunk", url: rx.url, token: "hec-token", index: "security", host: "vigil-1" },
    flushMs: 10,
  });
  await f.write([alert(1), alert(2)], []);
  await f.flush();
  expect(rx.requests).toHaveLength(1);
  const req = rx.requests[0]!;
  expect([req.path, req.headers.authorization]).toEqual(["/services/collector/event", "Splunk hec-token"]);
  const events = req.body.split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(events).toHaveLength(2);
  expect(Object.keys(events[0]!).sort()).toEqual(["event", "host", "index", "source", "sourcetype", "time"]);
  expect(events[0]).toMatchObject({
    time: Date.parse("2026-11-14T06:26:11.500Z") / 1000,
    host: "vigil-1",
    source: "vigil",
    sourcetype: "vigil:alert",
    index: "security",
    event: { id: "alert1" },
  });
});

test("a SIEM that is down: retried with backoff, the alerts kept, delivered once it answers", async () => {
  let up = false;
  rx.reply = () =>
    up ? { status: 200, body: '{"text":"Success","code":0}' } : { status: 503, body: "unavailable" };
  const f = new SiemForwarder({
    target: { kind: "splunk", url: rx.url, token: "t" },
    flushMs: 10,
    retry: { attempts: 3, baseMs: 1, maxMs: 2 },
  });
  const started = Date.now();
  await f.write([alert(1)], []);
  expect(Date.now() - started).toBeLessThan(50);
  await f.flush();
  expect(rx.requests).toHaveLength(3);
  expect(f.stats).toMatchObject({ sent: 0, failedRequests: 3 });
  up = true;
  await f.flush();
  expect(f.stats.sent).toBe(1);
  expect(JSON.parse(rx.requests.at(-1)!.body)).toMatchObject({ event: { id: "alert1" } });
  await f.close();
});

test("the buffer is bounded: the oldest alerts are dropped and counted", async () => {
  rx.reply = () => ({ status: 503 });
  const f = new SiemForwarder({
    target: { kind: "splunk", url: rx.url, token: "t" },
    maxBuffer: 2,
    flushMs: 60_000,
    batchSize: 100,
    retry: { attempts: 1 },
  });
  await f.write([alert(1), alert(2), alert(3)], []);
  expect(f.stats.dropped).toBe(1);
  rx.reply = () => ({ status: 200, body: "{}" });
  await f.flush();
  expect(
    rx.requests
      .at(-1)!
      .body.split("\n")
      .map((l) => (JSON.parse(l) as { event: { id: string } }).event.id),
  ).toEqual(["alert2", "alert3"]);
});

test("what leaves for the SIEM is masked: card numbers, tokens and secret-named fields in an alert's keys", async () => {
  const f = new SiemForwarder({ target: { kind: "elasticsearch", url: rx.url, index: "vigil-alerts" }, flushMs: 10 });
  const leaky: Alert = {
    ...alert(1),
    keys: { "payload.outbound": "card 4111 1111 1111 1111 sent", "http.request.api_key": "k-12345", "token.value": "AKIAIOSFODNN7EXAMPLE" },
  };
  await f.write([leaky], []);
  await f.flush();
  const body = rx.requests.map((r) => r.body).join("");
  for (const raw of ["4111 1111 1111 1111", "k-12345", "AKIAIOSFODNN7EXAMPLE"]) expect(body).not.toContain(raw);
  const [doc] = parseBulk(body, "vigil-alerts");
  expect(doc?.keys).toEqual({ "payload.outbound": "card **** **** **** 1111 sent", "http.request.api_key": "[masked]", "token.value": "AKIA…[masked]" });
  expect(doc?.id).toBe("alert1");
});
