import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { loadPack } from "../dsl/index.js";
import type { Alert } from "./alert.js";
import { Engine } from "./engine.js";
import type { EngineEvent, EventFields } from "./event.js";

const T0 = Date.UTC(2024, 0, 1);
const NOW = () => T0 + 365 * 86_400_000;

function run(rules: string, events: { t: number; f: EventFields }[]): Alert[] {
  const pack = loadPack([{ path: "t.vigil", text: rules }]);
  expect(pack.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const alerts: Alert[] = [];
  const engine = new Engine(pack, { onAlert: (a) => alerts.push(a), now: NOW });
  events.forEach((e, i) => engine.process({ id: `e${i}`, ts: T0 + e.t, seq: i, fields: e.f, source: "t", position: i + 1 }));
  return alerts;
}

const COUNT_RULE = `rule brute { severity high when outcome == "failure" count >= 3 within 10s by ip }`;
const fail = (t: number, ip: string | undefined): { t: number; f: EventFields } => ({ t, f: ip === undefined ? { outcome: "failure" } : { outcome: "failure", ip } });

describe("threshold windows", () => {
  test("fires on the Nth matching event within the window, edges inclusive", () => {
    const a = run(COUNT_RULE, [fail(0, "a"), fail(5_000, "a"), fail(10_000, "a")]);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ rule: "brute", keys: { ip: "a" }, count: 3, evidence: { event_ids: ["e0", "e1", "e2"], origins: ["t:1", "t:2", "t:3"] } });
    expect(a[0]?.first_event_at).toBe(new Date(T0).toISOString());
    expect(a[0]?.fired_at).toBe(new Date(T0 + 10_000).toISOString());
  });

  test("does not fire when the span exceeds the window by 1 ms", () => {
    expect(run(COUNT_RULE, [fail(0, "a"), fail(5_000, "a"), fail(10_001, "a")])).toHaveLength(0);
  });

  test("keys are separate and a missing key never joins", () => {
    expect(run(COUNT_RULE, [fail(0, "a"), fail(1, "b"), fail(2, "a"), fail(3, undefined), fail(4, undefined), fail(5, undefined)])).toHaveLength(0);
  });

  test("the window resets after firing", () => {
    const a = run(COUNT_RULE, [0, 1, 2, 3, 4, 5].map((t) => fail(t, "a")));
    expect(a.map((x) => x.count)).toEqual([3, 3]);
  });

  test("suppression: one alert per key per period, suppressed hits counted on it", () => {
    const rules = COUNT_RULE.replace("by ip }", "by ip suppress 1m by ip }");
    const a = run(rules, [0, 1, 2, 3, 4, 5, 6, 7, 8, 60_002, 60_003, 60_004].map((t) => fail(t, "a")));
    expect(a.map((x) => [x.count, x.suppressed])).toEqual([
      [3, 2],
      [3, 0],
    ]);
  });

  test("alert ids are deterministic: same rule, key and first event", () => {
    const events = [fail(0, "a"), fail(1, "a"), fail(2, "a")];
    expect(run(COUNT_RULE, events)[0]?.id).toBe(run(COUNT_RULE, events)[0]?.id);
    expect(run(COUNT_RULE, events)[0]?.id).not.toBe(run(COUNT_RULE, events.map((e) => ({ ...e, f: { ...e.f, ip: "b" } })))[0]?.id);
  });

  test("distinct, sum and max", () => {
    const spray = `rule spray { severity medium when outcome == "failure" distinct(user) >= 3 within 1m by ip }`;
    const ev = (t: number, user: string) => ({ t, f: { outcome: "failure", ip: "x", user } });
    expect(run(spray, [ev(0, "a"), ev(1, "a"), ev(2, "b"), ev(3, "b")])).toHaveLength(0);
    const a = run(spray, [ev(0, "a"), ev(1, "a"), ev(2, "b"), ev(3, "c")]);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ value: 3, count: 4 });
    const bytes = `rule exfil { severity high when bytes > 0 sum(bytes) > 1000 within 1m by host }`;
    const b = (t: number, n: number | string) => ({ t, f: { host: "h", bytes: n } });
    expect(run(bytes, [b(0, 500), b(1, 400), b(70_000, 200)])).toHaveLength(0);
    expect(run(bytes, [b(0, 500), b(1, "400"), b(2, 200)])[0]).toMatchObject({ value: 1100 });
    const big = `rule big { severity low when bytes > 0 max(bytes) >= 100 within 1m }`;
    expect(run(big, [b(0, 5), b(1, 150)])[0]).toMatchObject({ value: 150, count: 2 });
  });

  test("a rule without correlation fires on every match, with its planned actions", () => {
    const a = run(`rule r { severity low when x == 1 then block_ip(ip), notify("soc") dry_run }`, [{ t: 0, f: { x: 1, ip: "192.0.2.9" } }, { t: 1, f: { x: 2 } }]);
    expect(a).toHaveLength(1);
    expect(a[0]?.actions).toEqual([
      { action: "block_ip", mode: "enforce", args: { ip: "192.0.2.9", for: 3_600_000 } },
      { action: "notify", mode: "dry_run", args: { channel: "soc" } },
    ]);
  });

  test("a number or boolean field given to a text argument is planned as its text", () => {
    const a = run(`rule r { severity low when x == 1 then notify("soc", message: user.name), lock_account(user.id), block_ip(ip) }`, [{ t: 0, f: { x: 1, "user.name": 5, "user.id": true, ip: "192.0.2.9" } }]);
    expect(a[0]?.actions).toEqual([
      { action: "notify", mode: "enforce", args: { channel: "soc", message: "5" } },
      { action: "lock_account", mode: "enforce", args: { account: "true", for: 300_000 } },
      { action: "block_ip", mode: "enforce", args: { ip: "192.0.2.9", for: 3_600_000 } },
    ]);
  });

  test("events dated too far in the future are refused with a reason; late ones are counted", () => {
    const pack = loadPack([{ path: "t.vigil", text: COUNT_RULE }]);
    const engine = new Engine(pack, { onAlert: () => undefined, now: () => T0 });
    const ev = (ts: number, seq: number): EngineEvent => ({ id: `e${seq}`, ts, seq, fields: { outcome: "failure", ip: "a" } });
    const r = engine.process(ev(T0 + 301_000, 0));
    expect(r).toMatchObject({ accepted: false, reason: "future_timestamp" });
    expect(engine.process(ev(T0 + 100_000, 1))).toEqual({ accepted: true, late: false });
    expect(engine.process(ev(T0 + 1_000, 2))).toEqual({ accepted: true, late: true });
    expect(engine.stats).toMatchObject({ events: 2, late: 1, refused: 1 });
  });
});

/**
 * Reference model for `count >= N within D by key` with `suppress S by key`: keeps every
 * matching event since the key's last firing and recomputes the window from scratch.
 */
function referenceCount(events: { ts: number; key: string | undefined; match: boolean }[], n: number, d: number, s: number): [string, number, number][] {
  const since = new Map<string, number[]>();
  const until = new Map<string, number>();
  const out: [string, number, number][] = [];
  for (const e of events) {
    if (!e.match || e.key === undefined) continue;
    const list = [...(since.get(e.key) ?? []), e.ts];
    const newest = Math.max(...list);
    const win = list.filter((t) => t >= newest - d);
    if (win.length >= n) {
      since.set(e.key, []);
      const u = until.get(e.key);
      if (s > 0 && u !== undefined && e.ts < u) {
        const last = [...out].reverse().find((o) => o[0] === e.key);
        if (last !== undefined) last[2]++;
      } else {
        out.push([e.key, win.length, 0]);
        until.set(e.key, e.ts + s);
      }
    } else since.set(e.key, list);
  }
  return out;
}

describe("property: count windows agree with the reference model", () => {
  test("on streams out of order within the allowed lateness", () => {
    const eventArb = fc.record({
      dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 8_000 })),
      key: fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
      match: fc.boolean(),
      delay: fc.integer({ min: 0, max: 30_000 }), // how late it arrives (lateness is 30 s)
    });
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 100 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom(5_000, 20_000), fc.constantFrom(0, 15_000), (evs, n, d, s) => {
        let ts = 0;
        const timed = evs.map((e, i) => ({ ts: (ts += e.dt), key: e.key, match: e.match, arrive: ts + e.delay, i }));
        const arrival = [...timed].sort((x, y) => x.arrive - y.arrive || x.i - y.i);
        const rule = `rule r { severity low when m == true count >= ${n} within ${d}ms by k${s > 0 ? ` suppress ${s}ms by k` : ""} }`;
        const pack = loadPack([{ path: "t.vigil", text: rule }]);
        const alerts: Alert[] = [];
        const engine = new Engine(pack, { onAlert: (a) => alerts.push(a), now: NOW });
        for (const e of arrival) {
          const r = engine.process({ id: `e${e.i}`, ts: T0 + e.ts, seq: e.i, fields: e.key === undefined ? { m: e.match } : { m: e.match, k: e.key } });
          expect(r).toEqual({ accepted: true, late: false });
        }
        const got = alerts.map((a) => [a.keys.k as string, a.count, a.suppressed]);
        expect(got).toEqual(referenceCount(arrival, n, d, s));
      }),
      { numRuns: 300 },
    );
  });

  test("on in-order streams with equal timestamps, bursts at edges and missing keys", () => {
    const eventArb = fc.record({
      dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }).map((x) => x * 5_000), fc.integer({ min: 0, max: 20_000 })),
      key: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }),
      match: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 120 }), fc.integer({ min: 1, max: 6 }), fc.constantFrom(5_000, 10_000, 30_000), fc.constantFrom(0, 10_000, 60_000), (evs, n, d, s) => {
        let ts = 0;
        const stream = evs.map((e) => ({ ts: (ts += e.dt), key: e.key, match: e.match }));
        const rule = `rule r { severity low when m == true count >= ${n} within ${d}ms by k${s > 0 ? ` suppress ${s}ms by k` : ""} }`;
        const got = run(
          rule,
          stream.map((e) => ({ t: e.ts, f: e.key === undefined ? { m: e.match } : { m: e.match, k: e.key } })),
        ).map((a) => [a.keys.k as string, a.count, a.suppressed]);
        expect(got).toEqual(referenceCount(stream, n, d, s));
      }),
      { numRuns: 300 },
    );
  });
});

describe("bounded state", () => {
  test("idle keys expire with their window; suppressions with their period", () => {
    const pack = loadPack([{ path: "t.vigil", text: COUNT_RULE.replace("by ip }", "by ip suppress 20s by ip }") }]);
    const engine = new Engine(pack, { onAlert: () => undefined, now: NOW });
    let seq = 0;
    for (let i = 0; i < 5000; i++) {
      // a new key every 100 ms, each failing three times in a row (so it also fires)
      for (let k = 0; k < 3; k++) engine.process({ id: `e${seq}`, ts: T0 + i * 100 + k, seq: seq++, fields: { outcome: "failure", ip: `k${i}` } });
      engine.process({ id: `e${seq}`, ts: T0 + i * 100 + 50, seq: seq++, fields: { outcome: "failure", ip: `idle${i}` } });
    }
    const live = engine.liveKeys().get("brute");
    // window 10 s + lateness 30 s at 10 keys/s: about 400 live keys, not 5000
    expect(live?.windows).toBeLessThan(500);
    expect(live?.suppressions).toBeLessThan(600);
    expect(engine.stats.rules.get("brute")?.alerts).toBe(5000);
  });

  test("the per-rule key cap evicts the oldest keys and counts them", () => {
    const pack = loadPack([{ path: "t.vigil", text: `settings { max_keys_per_rule 100 }\n${COUNT_RULE}` }]);
    const engine = new Engine(pack, { onAlert: () => undefined, now: NOW });
    for (let i = 0; i < 1000; i++) engine.process({ id: `e${i}`, ts: T0 + i, seq: i, fields: { outcome: "failure", ip: `k${i}` } });
    expect(engine.liveKeys().get("brute")?.windows).toBe(100);
    expect(engine.stats.rules.get("brute")?.evictedKeys).toBe(900);
  });
});

/** Reference for `distinct(u) >= N` and `sum|avg|min|max(n) OP X` windows: every event kept, recomputed. */
function referenceAgg(
  events: { ts: number; key?: string; v?: string | number }[],
  agg: "distinct" | "sum" | "avg" | "min" | "max",
  op: ">=" | ">" | "<" | "<=",
  x: number,
  d: number,
): [string, number][] {
  const since = new Map<string, { ts: number; v: string | number }[]>();
  const out: [string, number][] = [];
  for (const e of events) {
    if (e.key === undefined || e.v === undefined) continue;
    const list = [...(since.get(e.key) ?? []), { ts: e.ts, v: e.v }];
    const newest = Math.max(...list.map((l) => l.ts));
    const win = list.filter((l) => l.ts >= newest - d);
    const nums = win.map((l) => Number(l.v));
    const value =
      agg === "distinct"
        ? new Set(win.map((l) => l.v)).size
        : agg === "sum"
          ? nums.reduce((a, b) => a + b, 0)
          : agg === "avg"
            ? nums.reduce((a, b) => a + b, 0) / nums.length
            : agg === "min"
              ? Math.min(...nums)
              : Math.max(...nums);
    const hit = op === ">=" ? value >= x : op === ">" ? value > x : op === "<" ? value < x : value <= x;
    if (hit) {
      out.push([e.key, win.length]);
      since.set(e.key, []);
    } else since.set(e.key, list);
  }
  return out;
}

describe("property: distinct and value aggregations agree with the reference model", () => {
  test.each(["distinct", "sum", "avg", "min", "max"] as const)("%s", (agg) => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 6_000 })),
            key: fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
            v: fc.option(agg === "distinct" ? (fc.constantFrom("u1", "u2", "u3", "u4") as fc.Arbitrary<string | number>) : (fc.integer({ min: 0, max: 9 }) as fc.Arbitrary<string | number>), { nil: undefined }),
          }),
          { maxLength: 80 },
        ),
        fc.constantFrom<">=" | ">" | "<" | "<=">(">=", ">", "<", "<="),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(5_000, 20_000),
        (evs, op0, x, d) => {
          const op = agg === "distinct" ? (op0 === "<" || op0 === "<=" ? ">=" : op0) : op0;
          let ts = 0;
          const stream = evs.map((e) => ({ ts: (ts += e.dt), key: e.key, v: e.v }));
          const field = agg === "distinct" ? "distinct(u)" : `${agg}(n)`;
          const rule = `rule r { severity low when m == 1 ${field} ${op} ${x} within ${d}ms by k }`;
          const got = run(
            rule,
            stream.map((e) => ({
              t: e.ts,
              f: { m: 1, ...(e.key === undefined ? {} : { k: e.key }), ...(e.v === undefined ? {} : agg === "distinct" ? { u: e.v } : { n: e.v }) },
            })),
          ).map((a) => [a.keys.k as string, a.count]);
          expect(got).toEqual(referenceAgg(stream, agg, op, x, d));
        },
      ),
      { numRuns: 200 },
    );
  });
});

test("suppress without keys on a rule without correlation is one rule-wide period", () => {
  const a = run(`rule r { severity low when x == 1 suppress 1m }`, [0, 1000, 2000, 61_000].map((t) => ({ t, f: { x: 1 } })));
  expect(a.map((x) => x.suppressed)).toEqual([2, 0]);
});

test("a missing suppress-by field never joins: such firings are not suppressed", () => {
  const a = run(`rule r { severity low when x == 1 suppress 1m by ip }`, [0, 1000, 2000].map((t) => ({ t, f: { x: 1 } })));
  expect(a).toHaveLength(3);
});

test("rules pinned by event.dataset or event.type are dispatched on that field, arrays included", () => {
  const a = run(
    `rule d { severity low when event.dataset == "heartbeat" and up == 0 }
rule t { severity low when event.type in ["denied", "deletion"] }`,
    [
      { t: 0, f: { "event.dataset": "heartbeat", up: 0 } },
      { t: 1, f: { "event.dataset": "web", up: 0 } },
      { t: 2, f: { "event.type": ["info", "denied"] } },
      { t: 3, f: { "event.type": "allowed" } },
    ],
  );
  expect(a.map((x) => [x.rule, x.evidence.event_ids[0]])).toEqual([
    ["d", "e0"],
    ["t", "e2"],
  ]);
});
