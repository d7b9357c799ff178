import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { loadPack } from "../dsl/index.js";
import type { Alert } from "./alert.js";
import { Engine, type EngineSnapshot } from "./engine.js";
import type { EngineEvent } from "./event.js";

const T0 = Date.UTC(2024, 0, 1);
const NOW = () => T0 + 365 * 86_400_000;

const PACK = `
macro fail = outcome == "failure"
rule brute { severity high when fail count >= 3 within 20s by ip suppress 30s by ip }
rule spray { severity medium when fail distinct(user) >= 2 within 30s by ip }
rule bytes { severity low when n > 0 sum(n) > 10 within 15s by ip }
rule seq { severity critical sequence by ip within 40s { f: fail repeat >= 2  s: outcome == "success" } until outcome == "reset" }
rule sameuser { severity high sequence by ip within 30s { f: fail  s: outcome == "success" and user == f.user } then lock_account(f.user) }
rule quiet { severity low when outcome != "reset" absent for 25s by ip }
rule newuser { severity low when outcome == "success" first seen user by ip learning 10s }
`;

interface Outcome {
  readonly order: string[];
  readonly alerts: Map<string, string>;
  readonly suppressed: Map<string, number>;
}

function collector(out: Outcome) {
  return {
    onAlert: (a: Alert) => {
      out.order.push(a.id);
      out.alerts.set(a.id, JSON.stringify({ ...a, detected_at: undefined, suppressed: undefined }));
    },
    onAlertUpdate: (a: Alert) => void out.suppressed.set(a.id, a.suppressed),
    now: NOW,
  };
}

const newOutcome = (): Outcome => ({ order: [], alerts: new Map(), suppressed: new Map() });

const eventArb = fc.record({
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 9_000 })),
  ip: fc.option(fc.constantFrom("192.0.2.1", "192.0.2.2", "198.51.100.3"), { nil: undefined }),
  user: fc.constantFrom("alice", "bob", "carol"),
  outcome: fc.constantFrom("failure", "failure", "success", "reset", "other"),
  n: fc.integer({ min: 0, max: 6 }),
});

function stream(evs: { dt: number; ip?: string; user: string; outcome: string; n: number }[]): EngineEvent[] {
  let ts = T0;
  return evs.map((e, i) => ({
    id: `e${i}`,
    ts: (ts += e.dt),
    seq: i,
    fields: { ...(e.ip === undefined ? {} : { ip: e.ip }), user: e.user, outcome: e.outcome, n: e.n },
    source: "t",
    position: i + 1,
  }));
}

describe("snapshots", () => {
  test("property: snapshot at any point, restore into a fresh engine, continue = the uninterrupted run", () => {
    const pack = loadPack([{ path: "t.vigil", text: PACK }]);
    expect(pack.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 70 }), fc.nat(), (evs, cut) => {
        const events = stream(evs);
        const k = events.length === 0 ? 0 : cut % (events.length + 1);
        const whole = newOutcome();
        const a = new Engine(pack, collector(whole));
        for (const e of events) a.process(e);
        a.finish();

        const split = newOutcome();
        const first = new Engine(pack, collector(split));
        for (const e of events.slice(0, k)) first.process(e);
        const saved = JSON.parse(JSON.stringify(first.snapshot())) as EngineSnapshot;
        const second = new Engine(pack, collector(split));
        second.restore(saved);
        for (const e of events.slice(k)) second.process(e);
        second.finish();

        expect(split.order).toEqual(whole.order);
        expect(split.alerts).toEqual(whole.alerts);
        expect(split.suppressed).toEqual(whole.suppressed);
        expect(second.stats.events).toBe(a.stats.events);
      }),
      { numRuns: 300 },
    );
  });

  test("property: a snapshot is detached: the engine going on never changes it (a store may serialise it later)", () => {
    const pack = loadPack([{ path: "t.vigil", text: PACK }]);
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 70 }), fc.nat(), (evs, cut) => {
        const events = stream(evs);
        const k = events.length === 0 ? 0 : cut % (events.length + 1);
        const engine = new Engine(pack, collector(newOutcome()));
        for (const e of events.slice(0, k)) engine.process(e);
        const snap = engine.snapshot();
        const at = JSON.stringify(snap);
        for (const e of events.slice(k)) engine.process(e);
        engine.finish();
        expect(JSON.stringify(snap)).toBe(at);
      }),
      { numRuns: 300 },
    );
    // And the case that needs care: a suppressed hit counted on an alert the snapshot holds.
    const engine = new Engine(pack, collector(newOutcome()));
    const fail = (i: number): EngineEvent => ({ id: `f${i}`, ts: T0 + i * 1000, seq: i, fields: { ip: "192.0.2.1", user: "alice", outcome: "failure", n: 0 } });
    for (let i = 0; i < 3; i++) engine.process(fail(i));
    const snap = engine.snapshot();
    const at = JSON.stringify(snap);
    for (let i = 3; i < 6; i++) engine.process(fail(i));
    expect(engine.stats.rules.get("brute")?.suppressed).toBe(1);
    expect(JSON.stringify(snap)).toBe(at);
  });

  test("hot reload keeps the state of unchanged rules and resets changed ones", () => {
    const text = PACK.replace("distinct(user) >= 2", "distinct(user) >= 3");
    const v1 = loadPack([{ path: "t.vigil", text }]);
    const out = newOutcome();
    const engine = new Engine(v1, collector(out));
    const ev = (i: number, outcome: string): EngineEvent => ({ id: `r${i}`, ts: T0 + i * 1000, seq: i, fields: { ip: "192.0.2.9", user: `u${i}`, outcome, n: 1 } });
    engine.process(ev(0, "failure"));
    engine.process(ev(1, "failure"));
    // spray's threshold changes (3 → 2 distinct users); brute is untouched
    engine.reload(loadPack([{ path: "t.vigil", text: PACK }]));
    engine.process(ev(2, "failure"));
    const fired = out.order.map((id) => (JSON.parse(out.alerts.get(id) ?? "{}") as { rule: string }).rule);
    expect(fired).toContain("brute"); // its two earlier failures survived the reload
    expect(fired).not.toContain("spray"); // spray started afresh: one user since the reload, not three
    expect(engine.stats.rules.get("brute")?.alerts).toBe(1);
  });

  test("snapshots of earlier layouts (versions 1 and 2) restore and continue exactly; an unknown version is refused with a clear error", () => {
    // test/fixtures/engine-snapshot-v2.json: written by the engine before version 3 (window
    // entries as [event, value] pairs, partial matches as chains of events) after the first
    // SPLIT events below: windows, a suppression, partial sequences with a repeat, absence and
    // first-seen state.
    const saved = JSON.parse(readFileSync(new URL("../test/fixtures/engine-snapshot-v2.json", import.meta.url), "utf8")) as EngineSnapshot;
    expect(saved.version).toBe(2);
    const pack = loadPack([{ path: "t.vigil", text: PACK }]);
    const events = stream([
      { dt: 0, ip: "192.0.2.1", user: "alice", outcome: "failure", n: 1 },
      { dt: 1000, ip: "192.0.2.1", user: "bob", outcome: "failure", n: 1 },
      { dt: 1000, ip: "192.0.2.2", user: "alice", outcome: "failure", n: 5 },
      { dt: 0, ip: "192.0.2.1", user: "carol", outcome: "failure", n: 1 },
      { dt: 2000, ip: "192.0.2.2", user: "bob", outcome: "failure", n: 4 },
      { dt: 1000, ip: "192.0.2.1", user: "alice", outcome: "failure", n: 1 },
      { dt: 1000, ip: "198.51.100.3", user: "carol", outcome: "success", n: 0 },
      { dt: 12000, ip: "198.51.100.3", user: "dave", outcome: "failure", n: 2 },
      { dt: 1000, ip: "192.0.2.2", user: "bob", outcome: "other", n: 3 },
      { dt: 1000, ip: "192.0.2.1", user: "alice", outcome: "success", n: 0 },
      { dt: 1000, ip: "192.0.2.2", user: "bob", outcome: "success", n: 0 },
      { dt: 0, ip: "192.0.2.1", user: "bob", outcome: "failure", n: 1 },
      { dt: 5000, ip: "198.51.100.3", user: "dave", outcome: "success", n: 0 },
      { dt: 30000, ip: "192.0.2.1", user: "erin", outcome: "success", n: 0 },
    ]);
    const SPLIT = 8;
    const whole = newOutcome();
    const a = new Engine(pack, collector(whole));
    for (const e of events) a.process(e);
    a.finish();
    for (const version of [2, 1] as const) {
      const split = newOutcome();
      const first = new Engine(pack, collector(split));
      for (const e of events.slice(0, SPLIT)) first.process(e);
      const firedBefore = split.order.length;
      const second = new Engine(pack, collector(split));
      second.restore({ ...saved, version });
      for (const e of events.slice(SPLIT)) second.process(e);
      second.finish();
      // The restored state completes what was pending at the split (sequences on both
      // addresses, the user's match, the suppressed brute force) exactly as the whole run does.
      expect(split.order.length).toBeGreaterThan(firedBefore + 5);
      expect(split.order).toEqual(whole.order);
      expect([...split.alerts]).toEqual([...whole.alerts]);
      expect(split.suppressed).toEqual(whole.suppressed);
      expect(second.snapshot().ruleStats).toEqual(a.snapshot().ruleStats);
    }
    expect(() => new Engine(pack, collector(newOutcome())).restore({ ...saved, version: 4 } as unknown as EngineSnapshot)).toThrow(/unsupported engine snapshot version 4/);
  });

  test("without onAlertUpdate, a caller that keeps its alerts still sees suppressed hits counted on them", () => {
    const pack = loadPack([{ path: "t.vigil", text: PACK }]);
    const alerts: Alert[] = [];
    const engine = new Engine(pack, { onAlert: (x) => alerts.push(x), now: NOW });
    const fail = (i: number): EngineEvent => ({ id: `f${i}`, ts: T0 + i * 1000, seq: i, fields: { ip: "192.0.2.7", user: "alice", outcome: "failure", n: 0 } });
    for (let i = 0; i < 3; i++) engine.process(fail(i));
    (globalThis as { gc?: () => void }).gc?.();
    for (let i = 3; i < 9; i++) engine.process(fail(i));
    const brute = alerts.filter((x) => x.rule === "brute");
    expect(brute.map((x) => x.suppressed)).toEqual([2]);
  });
});
