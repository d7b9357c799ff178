import { describe, expect, test } from "vitest";
import { loadPack } from "../../dsl/index.js";
import type { Alert } from "../alert.js";
import { Engine } from "../engine.js";
import type { EngineEvent } from "../event.js";
import type { ModelFile } from "./model-file.js";
import { seededRng } from "./rng.js";

const T0 = Date.UTC(2024, 0, 1);
const NOW = () => T0 + 365 * 86_400_000;

const rules = (threshold: number) => `
model egress {
  features network.bytes, hour_of_day(@timestamp), destination.port
  by       host.name
  train    1h
  retrain  1h
}
rule unusual_egress {
  severity medium
  when    event.category == "network"
  anomaly egress > ${threshold}
}`;
const RULES = rules(0.995);

/** Two hosts sending ~1 kB to port 443 every 10 s; host "b" is quieter. */
function traffic(hours: number, seed: number): EngineEvent[] {
  const rng = seededRng(seed);
  const out: EngineEvent[] = [];
  for (let t = 0; t < hours * 3_600_000; t += 10_000) {
    for (const host of ["a", "b"]) {
      const bytes = (host === "a" ? 1000 : 300) + Math.round((rng() - 0.5) * 100);
      out.push({ id: `${host}${t}`, ts: T0 + t, seq: out.length, fields: { "event.category": "network", "host.name": host, "network.bytes": bytes, "destination.port": 443 } });
    }
  }
  return out;
}

function runEngine(events: readonly EngineEvent[], onTrained?: (f: ModelFile, key: string) => void, text = RULES): { alerts: Alert[]; engine: Engine } {
  const pack = loadPack([{ path: "t.vigil", text }]);
  expect(pack.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const alerts: Alert[] = [];
  const engine = new Engine(pack, { onAlert: (a) => alerts.push(a), now: NOW, anomaly: { onTrained } });
  for (const ev of events) engine.process(ev);
  return { alerts, engine };
}

describe("anomaly rules in the engine", () => {
  test("the engine runs them (no longer unsupported), learns per key, then fires on an outlier with the score as value", () => {
    const events = traffic(2, 1);
    const spike: EngineEvent = { id: "spike", ts: T0 + 2 * 3_600_000, seq: events.length, fields: { "event.category": "network", "host.name": "b", "network.bytes": 5_000_000, "destination.port": 4444 } };
    const trained: [string, number, number][] = [];
    const { alerts, engine } = runEngine([...events, spike], (f, key) => trained.push([key, f.version, f.training.rows]));
    expect(engine.unsupported).toEqual([]);
    // Each host trained after its first hour of baseline; "b" retrained an hour later, at the
    // spike ("a" has no event at or after its retrain time).
    expect(trained.map(([k, v]) => [k, v])).toEqual([
      ["a", 1],
      ["b", 1],
      ["b", 2],
    ]);
    const spikeAlert = alerts.find((a) => a.evidence.event_ids[0] === "spike");
    expect(spikeAlert).toMatchObject({ rule: "unusual_egress", keys: { "host.name": "b" } });
    // The value is the calibrated score: the spike's raw score ranks above 99.5% of the baseline's.
    expect(spikeAlert?.value).toBeGreaterThan(0.995);
    expect(spikeAlert?.value).toBeLessThanOrEqual(1);
    // Ordinary traffic seldom crosses a calibrated 0.995 (about 0.5% of it would by chance).
    const ordinary = alerts.length - 1;
    expect(ordinary).toBeLessThan(0.02 * (events.length / 2));
  });

  test("nothing is scored before the baseline is complete", () => {
    const events = traffic(0.5, 2);
    events.push({ id: "early", ts: T0 + 1_800_000, seq: events.length, fields: { "event.category": "network", "host.name": "a", "network.bytes": 9e9, "destination.port": 1 } });
    expect(runEngine(events).alerts).toEqual([]);
  });

  test("same events, same alerts and scores (deterministic seeds), and a restored snapshot scores alike", () => {
    const events = traffic(1.5, 3);
    const text = rules(0.9);
    const a = runEngine(events, undefined, text).alerts;
    const b = runEngine(events, undefined, text).alerts;
    expect(a.length).toBeGreaterThan(10);
    expect(a.map((x) => [x.id, x.value])).toEqual(b.map((x) => [x.id, x.value]));

    const pack = loadPack([{ path: "t.vigil", text }]);
    const first: Alert[] = [];
    const e1 = new Engine(pack, { onAlert: (x) => first.push(x), now: NOW });
    const cut = Math.floor(events.length * 0.8);
    events.slice(0, cut).forEach((ev) => e1.process(ev));
    const snap = JSON.parse(JSON.stringify(e1.snapshot())) as ReturnType<Engine["snapshot"]>;
    const e2 = new Engine(pack, { onAlert: (x) => first.push(x), now: NOW });
    e2.restore(snap);
    events.slice(cut).forEach((ev) => e2.process(ev));
    expect(first.map((x) => [x.id, x.value])).toEqual(a.map((x) => [x.id, x.value]));
  });
});
