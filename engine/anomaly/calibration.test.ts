import { describe, expect, it } from "vitest";
import { calibrate, fitCalibration } from "./calibration.js";
import { IsolationForest } from "./forest.js";
import type { Matrix } from "./matrix.js";
import { seededRng } from "./rng.js";

function gaussian(rows: number, cols: number, seed: number): Matrix {
  const rng = seededRng(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return { rows, cols, data };
}

describe("calibration", () => {
  it("maps raw scores to their quantile among the training scores", () => {
    const c = fitCalibration([0.4, 0.5, 0.6, 0.7, 0.8], 5);
    expect(c.knots).toEqual([0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(calibrate(c, 0.3)).toBe(0);
    expect(calibrate(c, 0.4)).toBe(0);
    expect(calibrate(c, 0.6)).toBe(0.5);
    expect(calibrate(c, 0.65)).toBeCloseTo(0.625, 12);
    expect(calibrate(c, 0.8)).toBe(1);
    expect(calibrate(c, 0.95)).toBe(1);
  });

  it("is monotone, and a run of equal knots maps to its top", () => {
    const c = fitCalibration([0.5, 0.5, 0.5, 0.5, 0.9], 5);
    expect(calibrate(c, 0.5)).toBe(0.75);
    let prev = -1;
    for (let r = 0.3; r <= 1; r += 0.01) {
      const v = calibrate(c, r);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
  });

  it("a calibrated threshold means the same across retrains; a raw one does not", () => {
    // Two retrains on different baselines of the same traffic, with different ψ (which moves
    // the raw scale): a calibrated 0.95 flags about 5% of fresh normal traffic for both.
    const fresh = gaussian(20_000, 3, 99);
    const flagged = (base: Matrix, sampleSize: number, seed: number) => {
      const f = IsolationForest.fit(base, { sampleSize, seed });
      const c = fitCalibration(f.scores(base));
      const s = f.scores(fresh);
      let cal = 0;
      let raw = 0;
      for (const v of s) {
        if (calibrate(c, v) > 0.95) cal++;
        if (v > 0.5) raw++;
      }
      return { cal: cal / s.length, raw: raw / s.length };
    };
    const a = flagged(gaussian(5000, 3, 1), 256, 1);
    const b = flagged(gaussian(5000, 3, 2), 32, 2);
    expect(Math.abs(a.cal - 0.05)).toBeLessThan(0.01);
    expect(Math.abs(b.cal - 0.05)).toBeLessThan(0.01);
    // The raw threshold 0.5 flags very different shares under the two models.
    expect(Math.abs(a.raw - b.raw)).toBeGreaterThan(0.05);
  });
});
