import { describe, expect, test } from "vitest";
import { loadPack } from "../../dsl/index.js";
import type { Alert } from "../alert.js";
import { Engine } from "../engine.js";
import type { EngineEvent } from "../event.js";
import type { ModelFile } from "./model-file.js";
import { seededRng } from "./rng.js";

const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

// A service whose response sizes follow a two-day rhythm: ~1 kB on even days, ~50 kB on odd
// days (e.g. a batch job every other day). A 4-day baseline holds both; one day holds one.
const RULES = `
model sizes {
  features http.response.body.bytes
  by       service.name
  train    4d
  retrain  1d
}
rule unusual_size {
  severity low
  when    event.category == "web"
  anomaly sizes > 0.99
}`;

function traffic(days: number): EngineEvent[] {
  const rng = seededRng(7);
  const out: EngineEvent[] = [];
  for (let t = 0; t < days * DAY; t += 10 * 60_000) {
    const odd = Math.floor(t / DAY) % 2 === 1;
    const bytes = Math.round((odd ? 50_000 : 1_000) * (0.8 + 0.4 * rng()));
    out.push({ id: `e${out.length}`, ts: T0 + t, seq: out.length, fields: { "event.category": "web", "service.name": "billing", "http.response.body.bytes": bytes } });
  }
  return out;
}

function run(events: readonly EngineEvent[]): { alerts: Alert[]; trained: ModelFile[] } {
  const pack = loadPack([{ path: "t.vigil", text: RULES }]);
  expect(pack.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const alerts: Alert[] = [];
  const trained: ModelFile[] = [];
  const engine = new Engine(pack, { onAlert: (a) => alerts.push(a), now: () => T0 + 365 * DAY, anomaly: { onTrained: (f) => trained.push(f) } });
  for (const ev of events) engine.process(ev);
  return { alerts, trained };
}

describe("retraining keeps a sliding baseline of the `train` period", () => {
  test("each retrain learns from the latest 4 days, not only the day since the last training", () => {
    const { trained } = run(traffic(10));
    expect(trained.length).toBeGreaterThanOrEqual(6);
    for (const f of trained.slice(1)) {
      const span = Date.parse(f.training.to ?? "") - Date.parse(f.training.from ?? "");
      expect(span).toBeGreaterThanOrEqual(4 * DAY - 10 * 60_000);
      expect(span).toBeLessThanOrEqual(5 * DAY);
      // 144 events a day: the sample spans all four days.
      expect(f.training.rows).toBeGreaterThanOrEqual(4 * 144 - 2);
    }
  });

  test("so the normal alternation of the baseline does not fire after a retrain, while a real outlier does", () => {
    const events = traffic(10);
    events.push({ id: "exfil", ts: T0 + 10 * DAY, seq: events.length, fields: { "event.category": "web", "service.name": "billing", "http.response.body.bytes": 50_000_000 } });
    const { alerts } = run(events);
    expect(alerts.some((a) => a.evidence.event_ids[0] === "exfil")).toBe(true);
    // About 1% of ordinary traffic crosses a calibrated 0.99 by chance; a model trained on one
    // day of ~1 kB responses flags the whole next day of ~50 kB ones (144 events).
    const ordinary = alerts.filter((a) => a.evidence.event_ids[0] !== "exfil").length;
    expect(ordinary).toBeLessThan(0.03 * (events.length - 4 * 144));
  });
});
