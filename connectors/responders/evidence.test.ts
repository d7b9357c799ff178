/** The evidence recorder: which events it keeps, what it attaches, and the rule text it freezes. */
import { expect, test } from "vitest";
import type { Alert } from "../../engine/alert.js";
import type { EngineEvent } from "../../engine/event.js";
import { EvidenceRecorder, ruleSourcesFromPack } from "./evidence.js";

const ev = (id: string, ts: number): EngineEvent => ({
  id,
  ts,
  seq: ts,
  fields: { "event.id": id, "source.ip": "203.0.113.7" },
});
const alert = (id: string, ids: string[], version = "v1"): Alert => ({
  id,
  rule: "r",
  rule_version: version,
  title: "t",
  severity: "low",
  risk: undefined,
  tags: [],
  keys: {},
  count: ids.length,
  value: undefined,
  first_event_at: "2026-01-01T00:00:00.000Z",
  last_event_at: "2026-01-01T00:00:00.000Z",
  fired_at: "2026-01-01T00:00:00.000Z",
  detected_at: "2026-01-01T00:00:00.000Z",
  evidence: { event_ids: ids, origins: [], truncated: 0 },
  suppressed: 0,
  actions: [],
});

test("attaches the alert's events it still holds (the most recent `capacity`), and records each rule version once", async () => {
  const attached: [string, string[]][] = [];
  const versions: [string, string, string][] = [];
  const rec = new EvidenceRecorder(
    {
      attachEvents: (alertId, events) => (
        attached.push([alertId, events.map((e) => `${e.id}@${e.at}`)]),
        Promise.resolve()
      ),
      recordRuleVersion: (rule, version, source) => (
        versions.push([rule, version, source]),
        Promise.resolve()
      ),
    },
    { capacity: 3, ruleSource: (r) => (r === "r" ? "rule r { … }" : undefined) },
  );
  for (let i = 1; i <= 5; i++) rec.observe(ev(`e${i}`, i * 1000));
  expect(rec.held(alert("a1", ["e1", "e2", "e3", "e4", "e5"]))).toBe(3);
  await rec.write([
    alert("a1", ["e1", "e2", "e3", "e4", "e5"]),
    alert("a2", ["e1"]),
    alert("a3", ["e5"], "v2"),
  ]);
  expect(attached).toEqual([
    ["a1", ["e3@1970-01-01T00:00:03.000Z", "e4@1970-01-01T00:00:04.000Z", "e5@1970-01-01T00:00:05.000Z"]],
    ["a3", ["e5@1970-01-01T00:00:05.000Z"]],
  ]);
  expect(versions).toEqual([
    ["r", "v1", "rule r { … }"],
    ["r", "v2", "rule r { … }"],
  ]);
});

test("rule sources come from the pack files, printed canonically", () => {
  const src = ruleSourcesFromPack([
    {
      path: "x.vigil",
      text: 'rule   r {\n severity low\n when event.action == "x"\n then block_ip(source.ip)\n}\n',
    },
  ]);
  expect(src.get("r")).toBe(
    'rule r {\n  severity low\n  when event.action == "x"\n  then block_ip(source.ip)\n}',
  );
});

test("an alert not stored yet (a buffered store sink): the attachment is retried in the background, the write does not fail", async () => {
  let stored = false;
  const attached: string[] = [];
  const rec = new EvidenceRecorder(
    {
      attachEvents: (alertId) => {
        if (!stored)
          return Promise.reject(
            new Error(`no alert ${alertId}: write the alert before attaching its events`),
          );
        attached.push(alertId);
        return Promise.resolve();
      },
      recordRuleVersion: () => Promise.resolve(),
    },
    { retryMs: 60_000 },
  );
  rec.observe(ev("e1", 1000));
  await rec.write([alert("a1", ["e1"])]);
  expect([attached, rec.waiting]).toEqual([[], 1]);
  await rec.retry();
  expect(rec.waiting).toBe(1);
  stored = true;
  await rec.close();
  expect([attached, rec.waiting]).toEqual([["a1"], 0]);
});
