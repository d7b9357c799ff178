/**
 * Events that a pack calls irrelevant (`CompiledPack.relevant`, what the decoding thread of a
 * replay leaves out) change nothing when the engine gets their time alone (`Engine.pass`):
 * packs run over random event streams twice, once with every event through `Engine.process`
 * (the reference), once with the irrelevant ones passed; alerts and counters must be equal.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type EventFields, loadPack } from "../dsl/index.js";
import { keyIsRead } from "../dsl/compile/reads.js";
import { Engine, type EngineEvent } from "../engine/index.js";
import { collectPackFiles } from "./pack-files.js";

const SEQ = readFileSync(join(import.meta.dirname, "../test/fixtures/relevance.vigil"), "utf8");

function pack(text: string) {
  const p = loadPack([{ path: "t.vigil", text }]);
  const errors = p.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((d) => d.message).join("; "));
  return p;
}

/**
 * Runs events through an engine; with `pass`, the irrelevant ones by their time alone and the
 * others without the keys no rule reads (as the decoding thread of a replay sends them).
 */
function run(p: ReturnType<typeof pack>, events: readonly EngineEvent[], pass: boolean, now: number) {
  const alerts: unknown[] = [];
  const engine = new Engine(p, { onAlert: (a) => alerts.push(a), now: () => now });
  const project = (ev: EngineEvent): EngineEvent => ({ ...ev, fields: Object.fromEntries(Object.entries(ev.fields).filter(([k]) => keyIsRead(k, p.reads))) });
  const results = events.map((ev) => (pass && !p.relevant(ev.fields) ? engine.pass(ev.ts) : engine.process(pass ? project(ev) : ev)));
  engine.finish();
  return { alerts: JSON.parse(JSON.stringify(alerts)) as unknown, results, events: engine.stats.events, late: engine.stats.late, refused: engine.stats.refused };
}

describe("Engine.pass", () => {
  const p = pack(`rule hb { severity low when event.dataset == "heartbeat" absent for 1m by host.name }`);
  const T = Date.UTC(2024, 2, 3);
  const hb: EngineEvent = { id: "h", ts: T, seq: 0, fields: { "event.dataset": "heartbeat", "host.name": "a" } };

  test("moves event time as process does: timers due by the new watermark fire at once", () => {
    const alerts: unknown[] = [];
    const engine = new Engine(p, { onAlert: (a) => alerts.push(a), now: () => T + 3_600_000 });
    engine.process(hb);
    expect(engine.pass(T + 30_000)).toEqual({ accepted: true, late: false });
    expect(alerts).toHaveLength(0);
    engine.pass(T + 10 * 60_000);
    expect(alerts).toHaveLength(1);
  });

  test("refuses, counts and marks late as process does", () => {
    const mk = () => new Engine(p, { onAlert: () => {}, now: () => T + 3_600_000, settings: { latenessMs: 1000 } });
    const a = mk();
    const b = mk();
    const times = [T, T + 5000, T + 1000, T + 86_400_000, T + 4500];
    const ra = times.map((ts, i) => a.process({ id: `e${i}`, ts, seq: i, fields: {} }));
    const rb = times.map((ts) => b.pass(ts));
    expect(rb).toEqual(ra);
    expect(b.stats).toEqual(a.stats);
    expect(ra.map((r) => (r.accepted ? r.late : r.reason))).toEqual([false, false, true, "future_timestamp", false]);
  });
});

const arbFields: fc.Arbitrary<EventFields> = fc.record(
  {
    "event.category": fc.constantFrom("authentication", "authentication", "network", "web"),
    "event.outcome": fc.constantFrom("failure", "failure", "success"),
    "event.type": fc.constantFrom("start", "start", "info"),
    "event.action": fc.constantFrom("x", "x", "mfa", "mfa", "mfa_push", "mfa_push", "ssh_other", "ssh_other", "reset"),
    "event.dataset": fc.constantFrom("sshd", "heartbeat", "audit"),
    "service.name": fc.constantFrom("sshd", "api"),
    "user.name": fc.constantFrom("root", "admin", "svc", "bob"),
    "source.ip": fc.constantFrom("198.51.100.1", "203.0.113.9"),
    "source.address": fc.constantFrom("198.51.100.1", "203.0.113.9"),
    "source.geo.country_iso_code": fc.constantFrom("DE", "FR"),
    "session.id": fc.constantFrom("s1", "s2"),
    "session.idle_ms": fc.integer({ min: 0, max: 3_600_000 }),
    "url.path": fc.constantFrom("/", "/health", "/wp-login.php"),
    // Read by no rule of the packs (left out when projected).
    message: fc.constantFrom("Failed password for root", "x"),
    "process.pid": fc.nat(99),
    "ssh.method": fc.constantFrom("password", "publickey"),
  },
  { requiredKeys: ["event.category", "event.outcome", "event.type", "event.action", "service.name", "user.name", "source.ip", "source.address"] },
);

const T0 = Date.UTC(2024, 2, 3);
/** Events a few seconds apart, some far back (late), a few in the future of the clock. */
const arbStep = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 8_000 }) }, { weight: 1, arbitrary: fc.integer({ min: -900_000, max: -1 }) });
const arbEvents = fc.array(fc.tuple(arbFields, arbStep, fc.nat(60)), { minLength: 20, maxLength: 300, size: "max" }).map((xs) => {
  let t = T0;
  return xs.map(([fields, dt, future], i): EngineEvent => {
    t += dt;
    return { id: `e${i}`, ts: future === 0 ? T0 + 86_400_000 : t, seq: i, fields: { ...fields, "event.id": `e${i}` }, source: "t.log", position: i + 1 };
  });
});

describe("events a pack calls irrelevant, passed by their time alone, and keys no rule reads, left out, change nothing", () => {
  const packs = { custom: pack(SEQ), shipped: loadPack(collectPackFiles(["rules"])) };
  for (const [name, p] of Object.entries(packs)) {
    test(`${name} pack`, () => {
      fc.assert(
        fc.property(arbEvents, (events) => {
          const now = T0 + 3_600_000;
          expect(run(p, events, true, now)).toEqual(run(p, events, false, now));
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe("CompiledPack.reads", () => {
  test("holds what the rules read (macros, keys, actions, sequence steps without their name), not the rest", () => {
    const p = pack(SEQ);
    for (const k of ["event.category", "user.name", "source.ip"]) expect(keyIsRead(k, p.reads)).toBe(true);
    for (const k of ["message", "process.pid", "ssh.method", "@timestamp"]) expect(keyIsRead(k, p.reads)).toBe(false);
    // Nested objects on the way to a field that is read, and keys under one that is read.
    expect(keyIsRead("user", p.reads)).toBe(true);
    expect(keyIsRead("user.name.first", p.reads)).toBe(true);
    expect(keyIsRead("user.nam", p.reads)).toBe(false);
    const shipped = loadPack(collectPackFiles(["rules"]));
    expect(keyIsRead("event.id", shipped.reads)).toBe(false);
    expect(keyIsRead("message", shipped.reads)).toBe(false);
  });
});
