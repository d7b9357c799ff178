/**
 * `CompiledRule.relevant` and `CompiledPack.relevant`: false only for events a rule leaves
 * untouched (cli/replay-relevance.test.ts checks that against the engine).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadPack } from "../pack.js";

function pack(text: string) {
  const p = loadPack([{ path: "t.vigil", text }]);
  const errors = p.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((d) => d.message).join("; "));
  return p;
}

const SEQ = readFileSync(join(import.meta.dirname, "../../test/fixtures/relevance.vigil"), "utf8");

describe("relevance", () => {
  const p = pack(SEQ);
  const rule = (n: string) => p.rules.find((r) => r.name === n) as (typeof p.rules)[number];

  test("a sequence is relevant to events a step can match, by the conjuncts that read no earlier step, and to its until", () => {
    const s = rule("s");
    expect(s.relevant({ "event.category": "authentication", "event.outcome": "failure" })).toBe(true);
    expect(s.relevant({ "event.category": "authentication", "event.outcome": "success", "user.name": "x" })).toBe(true);
    expect(s.relevant({ "event.category": "authentication", "event.outcome": "unknown" })).toBe(false);
    expect(s.relevant({ "event.category": "authentication", "event.outcome": "failure", "user.name": "svc" })).toBe(false); // when
    expect(s.relevant({ "event.category": "network", "event.action": "reset", "user.name": "svc" })).toBe(true); // until
    expect(s.relevant({ "event.category": "network" })).toBe(false);
  });

  test("a step whose condition reads an earlier step as a whole may match anything", () => {
    expect(rule("w").relevant({ "event.category": "network" })).toBe(true);
  });

  test("other rules are relevant to what they match; the pack to what any enabled rule is", () => {
    expect(rule("v").relevant({ "event.category": "web", "url.path": "/health" })).toBe(false);
    expect(rule("v").relevant({ "event.category": "web", "url.path": "/" })).toBe(true);
    const q = pack(SEQ.replace(/rule w \{[^}]*\}\n\}/, ""));
    expect(q.rules.some((r) => r.name === "w")).toBe(false);
    expect(q.relevant({ "event.category": "network" })).toBe(false); // rule off is disabled
    expect(q.relevant({ "event.action": "x" })).toBe(true);
    expect(q.relevant({ "session.id": "1", "session.idle_ms": 11 })).toBe(true);
    expect(q.relevant({ "session.id": "1", "session.idle_ms": 9 })).toBe(false);
    expect(pack("").relevant({})).toBe(false);
  });
});
