import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { loadPack } from "../../dsl/index.js";
import type { Alert } from "../alert.js";
import { Engine } from "../engine.js";
import type { EventFields } from "../event.js";

const T0 = Date.UTC(2024, 0, 1);
const NOW = () => T0 + 365 * 86_400_000;

interface Ev {
  readonly t: number;
  readonly f: EventFields;
}

function run(rules: string, events: readonly Ev[], finish = true): Alert[] {
  const pack = loadPack([{ path: "t.vigil", text: rules }]);
  expect(pack.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  const alerts: Alert[] = [];
  const engine = new Engine(pack, { onAlert: (a) => alerts.push(a), now: NOW });
  events.forEach((e, i) => engine.process({ id: `e${i}`, ts: T0 + e.t, seq: i, fields: e.f, source: "t", position: i + 1 }));
  if (finish) engine.finish();
  return alerts;
}

describe("sequences", () => {
  const BRUTE_THEN_SUCCESS = `
macro fail = outcome == "failure"
macro ok = outcome == "success"
rule b { severity critical
  sequence by ip within 10m {
    f: fail repeat >= 3
    s: ok and user == f.user
  } until action == "password_reset"
  then lock_account(s.user), notify("soc")
}`;
  const ev = (t: number, outcome: string, ip = "192.0.2.1", user = "alice", action?: string): Ev => ({ t, f: { outcome, ip, user, ...(action === undefined ? {} : { action }) } });

  test("fires on the success that follows N failures, with the steps' events and fields", () => {
    const a = run(BRUTE_THEN_SUCCESS, [ev(0, "failure"), ev(1000, "failure"), ev(2000, "failure"), ev(3000, "success")]);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ keys: { ip: "192.0.2.1" }, count: 4, evidence: { event_ids: ["e0", "e1", "e2", "e3"] } });
    expect(a[0]?.actions[0]).toEqual({ action: "lock_account", mode: "enforce", args: { account: "alice", for: 300_000 } });
  });

  test("order matters, the span is a maximum, until cancels, keys do not mix", () => {
    expect(run(BRUTE_THEN_SUCCESS, [ev(0, "success"), ev(1, "failure"), ev(2, "failure"), ev(3, "failure")])).toHaveLength(0);
    expect(run(BRUTE_THEN_SUCCESS, [ev(0, "failure"), ev(1, "failure"), ev(2, "failure"), ev(600_001, "success")])).toHaveLength(0);
    expect(run(BRUTE_THEN_SUCCESS, [ev(0, "failure"), ev(1, "failure"), ev(2, "failure"), ev(599_999, "success")])).toHaveLength(1);
    expect(run(BRUTE_THEN_SUCCESS, [ev(0, "failure"), ev(1, "failure"), ev(2, "failure"), ev(3, "other", "192.0.2.1", "alice", "password_reset"), ev(4, "success")])).toHaveLength(0);
    expect(run(BRUTE_THEN_SUCCESS, [ev(0, "failure"), ev(1, "failure", "192.0.2.2"), ev(2, "failure"), ev(3, "success")])).toHaveLength(0);
  });

  test("a later step can read an earlier step's fields", () => {
    expect(run(BRUTE_THEN_SUCCESS, [ev(0, "failure"), ev(1, "failure"), ev(2, "failure"), ev(3, "success", "192.0.2.1", "bob")])).toHaveLength(0);
  });

  test("per-step keys join by value across different fields", () => {
    const rule = `rule p { severity high sequence within 1h { phish: kind == "click" by destination.ip  login: kind == "login" by source.ip } }`;
    const a = run(rule, [
      { t: 0, f: { kind: "click", "destination.ip": "198.51.100.7" } },
      { t: 5, f: { kind: "login", "source.ip": "198.51.100.8" } },
      { t: 9, f: { kind: "login", "source.ip": "198.51.100.7" } },
    ]);
    expect(a.map((x) => x.evidence.event_ids)).toEqual([["e0", "e2"]]);
  });
});

/** Reference model for `sequence by k within D { a: t == "A" repeat >= n  b: t == "B" } until t == "U"`. */
function referenceSequence(events: readonly { ts: number; k?: string; t: string }[], n: number, d: number): [string, number, number][] {
  const out: [string, number, number][] = [];
  const since = new Map<string, number>(); // key → index after which events count (last completion or until)
  events.forEach((e, i) => {
    if (e.k === undefined) return;
    if (e.t === "U") {
      since.set(e.k, i);
      return;
    }
    if (e.t !== "B") return;
    const from = (since.get(e.k) ?? -1) + 1;
    // latest feasible start: the n latest A's of the key before e, all within D of e
    const as: number[] = [];
    for (let j = i - 1; j >= from && as.length < n; j--) {
      const x = events[j] as { ts: number; k?: string; t: string };
      if (x.k === e.k && x.t === "A") as.push(j);
    }
    if (as.length < n) return;
    const first = as[as.length - 1] as number;
    if (e.ts - (events[first] as { ts: number }).ts > d) return;
    out.push([e.k, first, n + 1]);
    since.set(e.k, i);
  });
  return out;
}

describe("property: sequences agree with the reference model", () => {
  // With `event.category` the rule is pinned to what its steps and until can match (the
  // dispatch index): other events never reach it, and the alerts must be the same.
  test.each(["t", "event.category"])("on in-order streams with equal timestamps, missing keys and until (type field %s)", (field) => {
    const evArb = fc.record({
      dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 8_000 })),
      k: fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
      t: fc.constantFrom("A", "A", "A", "B", "B", "C", "U"),
    });
    fc.assert(
      fc.property(fc.array(evArb, { maxLength: 80 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(5_000, 15_000), (evs, n, d) => {
        let ts = 0;
        const stream = evs.map((e) => ({ ts: (ts += e.dt), k: e.k, t: e.t }));
        const rule = `rule s { severity low sequence by k within ${d}ms { a: ${field} == "A" repeat >= ${n}  b: ${field} == "B" } until ${field} == "U" }`;
        const got = run(rule, stream.map((e) => ({ t: e.ts, f: e.k === undefined ? { [field]: e.t } : { [field]: e.t, k: e.k } }))).map((a) => [
          a.keys.k as string,
          Number(a.evidence.event_ids[0]?.slice(1)),
          a.count,
        ]);
        expect(got).toEqual(referenceSequence(stream, n, d));
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * Reference model of docs/language.md's sequence semantics, for streams in arrival order (out
 * of order within the lateness): per key and stage (A's matched so far), only the partial with
 * the latest start; an event tried against the stages from last to first, extending one whose
 * last event is no later than it and whose start is within D; an A also starts a partial;
 * completion and `until` clear the key. Returns [key, index of the first event, count].
 */
function referenceSequenceArrival(events: readonly { ts: number; k?: string; t: string; i: number }[], n: number, d: number): [string, number, number][] {
  const out: [string, number, number][] = [];
  const stages = new Map<string, ({ start: number; last: number; first: number } | undefined)[]>();
  for (const e of events) {
    if (e.k === undefined) continue;
    if (e.t === "U") {
      stages.delete(e.k);
      continue;
    }
    if (e.t !== "A" && e.t !== "B") continue;
    const st = stages.get(e.k) ?? [];
    stages.set(e.k, st);
    let done = false;
    for (let s = n; s >= 1; s--) {
      const p = st[s];
      if (p === undefined || e.ts < p.last || e.ts - p.start > d) continue;
      if (s === n) {
        if (e.t !== "B") continue;
        out.push([e.k, p.first, n + 1]);
        stages.delete(e.k);
        done = true;
        break;
      }
      if (e.t !== "A") continue;
      const cur = st[s + 1];
      if (cur === undefined || cur.start <= p.start) st[s + 1] = { start: p.start, last: e.ts, first: p.first };
    }
    if (done || e.t !== "A") continue;
    const cur = st[1];
    if (cur === undefined || cur.start <= e.ts) st[1] = { start: e.ts, last: e.ts, first: e.i };
  }
  return out;
}

describe("property: sequences on streams out of order within the lateness agree with the reference model", () => {
  test("latest start per stage, arrival order, until", () => {
    const evArb = fc.record({
      dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 6_000 })),
      k: fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
      t: fc.constantFrom("A", "A", "A", "B", "B", "C", "U"),
      delay: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30_000 })), // lateness is 30 s
    });
    fc.assert(
      fc.property(fc.array(evArb, { maxLength: 80 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(5_000, 15_000), (evs, n, d) => {
        let ts = 0;
        const timed = evs.map((e, i) => ({ ts: (ts += e.dt), k: e.k, t: e.t, i, arrive: ts + e.delay }));
        const arrival = [...timed].sort((x, y) => x.arrive - y.arrive || x.i - y.i);
        const rule = `rule s { severity low sequence by k within ${d}ms { a: t == "A" repeat >= ${n}  b: t == "B" } until t == "U" }`;
        const pack = loadPack([{ path: "t.vigil", text: rule }]);
        const alerts: Alert[] = [];
        const engine = new Engine(pack, { onAlert: (a) => alerts.push(a), now: NOW });
        for (const e of arrival) {
          const r = engine.process({ id: `e${e.i}`, ts: T0 + e.ts, seq: e.i, fields: e.k === undefined ? { t: e.t } : { t: e.t, k: e.k }, source: "t", position: e.i + 1 });
          expect(r).toEqual({ accepted: true, late: false });
        }
        const got = alerts.map((a) => [a.keys.k as string, Number(a.evidence.event_ids[0]?.slice(1)), a.count]);
        expect(got).toEqual(referenceSequenceArrival(arrival, n, d));
      }),
      { numRuns: 400 },
    );
  });

  test("a first step arriving late, dated before the kept start, does not replace it (the match still completes)", () => {
    const rule = `rule s2 { severity low sequence by k within 10s { a: v == 1  b: v == 2 } }`;
    const a = run(rule, [
      { t: 15_000, f: { k: "x", v: 1 } },
      { t: 14_000, f: { k: "x", v: 1 } },
      { t: 24_500, f: { k: "x", v: 2 } },
    ]);
    expect(a.map((x) => [x.evidence.event_ids, x.count])).toEqual([[["e0", "e2"], 2]]);
  });
});

describe("absence", () => {
  const RULE = `rule hb { severity low when dataset == "heartbeat" absent for 5m by host }`;
  const hb = (t: number, host: string): Ev => ({ t, f: { dataset: "heartbeat", host } });

  test("a host that goes quiet fires once, at the end of the quiet period, with its last heartbeat", () => {
    const a = run(RULE, [hb(0, "h1"), hb(0, "h2"), hb(60_000, "h1"), hb(60_000, "h2"), hb(120_000, "h2"), hb(500_000, "h2"), hb(900_000, "h2")]);
    expect(a.map((x) => [x.keys.host, x.fired_at, x.evidence.event_ids])).toEqual([
      ["h1", new Date(T0 + 360_000).toISOString(), ["e2"]],
      ["h2", new Date(T0 + 420_000).toISOString(), ["e4"]],
      ["h2", new Date(T0 + 800_000).toISOString(), ["e5"]],
    ]);
  });

  test("nothing fires before the silence is confirmed by the end of the input", () => {
    expect(run(RULE, [hb(0, "h1"), hb(299_000, "h2")])).toHaveLength(0);
    expect(run(RULE, [hb(0, "h1"), hb(300_000, "h2")])).toHaveLength(0); // silence of exactly D: not confirmed
    expect(run(RULE, [hb(0, "h1"), hb(300_001, "h2")])).toHaveLength(1);
    expect(run(RULE, [hb(0, "h1"), hb(300_000, "h1"), hb(600_000, "h1")])).toHaveLength(0); // a heartbeat every D exactly is not a silence
  });
});

function referenceAbsent(events: readonly { ts: number; k?: string }[], d: number): string[] {
  const out: string[] = [];
  const last = new Map<string, number>();
  const maxTs = events.reduce((m, e) => Math.max(m, e.ts), -Infinity);
  for (const e of events) {
    if (e.k === undefined) continue;
    const l = last.get(e.k);
    if (l !== undefined && e.ts - l > d) out.push(`${e.k}@${l + d}`);
    last.set(e.k, e.ts);
  }
  for (const [k, l] of last) if (l + d < maxTs) out.push(`${k}@${l + d}`);
  return out.sort();
}

test("property: absence agrees with the reference model", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ dt: fc.integer({ min: 0, max: 40_000 }), k: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }) }), { maxLength: 60 }),
      fc.constantFrom(10_000, 30_000, 60_000),
      (evs, d) => {
        let ts = 0;
        const stream = evs.map((e) => ({ ts: (ts += e.dt), k: e.k }));
        const got = run(`rule r { severity low when x == 1 absent for ${d}ms by k }`, stream.map((e) => ({ t: e.ts, f: e.k === undefined ? { x: 1 } : { x: 1, k: e.k } })))
          .map((a) => `${a.keys.k as string}@${Date.parse(a.fired_at) - T0}`)
          .sort();
        expect(got).toEqual(referenceAbsent(stream, d));
      },
    ),
    { numRuns: 300 },
  );
});

describe("first seen", () => {
  test("fires on a value new for its key, not during learning", () => {
    const rule = `rule c { severity low when outcome == "success" first seen country by user learning 1h }`;
    const login = (t: number, user: string, country: string): Ev => ({ t, f: { outcome: "success", user, country } });
    const a = run(rule, [login(0, "alice", "FR"), login(1000, "bob", "DE"), login(3_600_000, "alice", "FR"), login(3_700_000, "alice", "BR"), login(3_800_000, "bob", "BR"), login(3_900_000, "alice", "BR")]);
    expect(a.map((x) => x.keys)).toEqual([
      { user: "alice", country: "BR" },
      { user: "bob", country: "BR" },
    ]);
  });
});

test("property: first seen agrees with the reference model", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ dt: fc.integer({ min: 0, max: 20_000 }), u: fc.option(fc.constantFrom("a", "b"), { nil: undefined }), c: fc.option(fc.constantFrom("FR", "DE", "BR"), { nil: undefined }) }), { maxLength: 60 }),
      fc.constantFrom(0, 30_000),
      (evs, learning) => {
        let ts = 0;
        const stream = evs.map((e) => ({ ts: (ts += e.dt), u: e.u, c: e.c }));
        const expected: string[] = [];
        const seen = new Set<string>();
        const start = stream[0]?.ts ?? 0;
        for (const e of stream) {
          if (e.u === undefined || e.c === undefined) continue;
          const key = `${e.u}/${e.c}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (e.ts >= start + learning) expected.push(key);
        }
        const fields = (e: (typeof stream)[number]) => ({ x: 1, ...(e.u === undefined ? {} : { u: e.u }), ...(e.c === undefined ? {} : { c: e.c }) });
        const got = run(`rule r { severity low when x == 1 first seen c by u learning ${learning}ms }`, stream.map((e) => ({ t: e.ts, f: fields(e) }))).map(
          (a) => `${a.keys.u as string}/${a.keys.c as string}`,
        );
        expect(got).toEqual(expected);
      },
    ),
    { numRuns: 300 },
  );
});

test("until sees events of other categories than the rule's when", () => {
  const rule = `rule b { severity high when event.category == "authentication"
    sequence by ip within 10m { f: outcome == "failure" repeat >= 2  s: outcome == "success" } until event.action == "password_reset" }`;
  const auth = (t: number, outcome: string): Ev => ({ t, f: { "event.category": "authentication", outcome, ip: "192.0.2.5" } });
  const reset: Ev = { t: 3, f: { "event.category": "iam", "event.action": "password_reset", ip: "192.0.2.5" } };
  expect(run(rule, [auth(0, "failure"), auth(1, "failure"), reset, auth(4, "success")])).toHaveLength(0);
  expect(run(rule, [auth(0, "failure"), auth(1, "failure"), auth(4, "success")])).toHaveLength(1);
});
