import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { Kpis } from "../store/types.js";
import { Aggregator, EMPTY_TAG, MEASUREMENTS } from "./aggregate.js";

type Op = { kind: "event" | "alert"; a: string; b: string } | { kind: "roll" };

const name = fc.constantFrom("", "sshd", "nginx", "api", "auth", "x y", "a,b=c");

describe("Aggregator", () => {
  test.prop([fc.array(fc.oneof(fc.record({ kind: fc.constantFrom("event" as const, "alert" as const), a: name, b: name }), fc.constant({ kind: "roll" as const })), { maxLength: 300 })])(
    "each interval's counts equal a plain count of what was added in it",
    (ops: Op[]) => {
      const agg = new Aggregator();
      let model = new Map<string, number>();
      let t = 1_000;
      const check = () => {
        t += 10_000;
        const points = agg.roll(t, 10_000);
        const got = new Map<string, number>();
        for (const p of points) {
          const tags = p.tags ?? {};
          const key = p.measurement === MEASUREMENTS.events ? `event|${tags.service}|${tags.category}` : `alert|${tags.rule}|${tags.severity}`;
          expect(got.has(key)).toBe(false);
          got.set(key, p.fields?.count as number);
          expect(p.fields?.rate).toBeCloseTo((p.fields?.count as number) / 10);
          expect(p.timestamp).toBe(t);
        }
        expect(got).toEqual(model);
        model = new Map();
      };
      for (const op of ops) {
        if (op.kind === "roll") {
          check();
          continue;
        }
        if (op.kind === "event") agg.countEvent(op.a, op.b);
        else agg.countAlert(op.a, op.b);
        const key = `${op.kind}|${op.a === "" ? EMPTY_TAG : op.a}|${op.b === "" ? EMPTY_TAG : op.b}`;
        model.set(key, (model.get(key) ?? 0) + 1);
      }
      check();
      expect(agg.roll(t + 1, 1)).toEqual([]);
    },
  );

  it("keeps anomaly points as given, up to the per-interval bound", () => {
    const agg = new Aggregator({ maxAnomalyPointsPerInterval: 2 });
    agg.anomalyScore("logins", "alice", 0.91, 1_700_000_000_123);
    agg.anomalyScore("logins", "", 0.2, 1_700_000_000_124);
    agg.anomalyScore("logins", "bob", 0.3, 1_700_000_000_125);
    agg.anomalyScore("logins", "nan", Number.NaN, 1_700_000_000_126);
    expect(agg.droppedAnomalies).toBe(1);
    expect(agg.roll(1_700_000_001_000, 10_000)).toEqual([
      { measurement: "vigil_anomaly", tags: { model: "logins", entity: "alice" }, fields: { score: 0.91 }, timestamp: 1_700_000_000_123 },
      { measurement: "vigil_anomaly", tags: { model: "logins", entity: EMPTY_TAG }, fields: { score: 0.2 }, timestamp: 1_700_000_000_124 },
    ]);
  });

  it("writes a KPI snapshot's numbers and leaves out the ones that are null", () => {
    const agg = new Aggregator();
    const k: Kpis = {
      from: "2024-01-01T00:00:00Z",
      to: "2024-01-02T00:00:00Z",
      incidents: 4,
      alerts: 9,
      mttd_ms: 1500,
      mttd_excluded: 0,
      mttr_contain_ms: null,
      mttr_resolve_ms: 60_000,
      false_positive_rate: 0.25,
      coverage: { expected: 3, seen: 2, ratio: 2 / 3, missing: ["api"] },
    };
    agg.kpis(k, 5_000);
    expect(agg.roll(6_000, 10_000)).toEqual([
      {
        measurement: "vigil_kpis",
        fields: { incidents: 4, alerts: 9, mttd_ms: 1500, mttr_resolve_ms: 60_000, false_positive_rate: 0.25, coverage_expected: 3, coverage_seen: 2, coverage_ratio: 2 / 3, coverage_missing: 1 },
        timestamp: 5_000,
      },
    ]);
  });
});
