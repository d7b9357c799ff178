import { describe, expect, it } from "vitest";
import { meanSd, rocAuc } from "./auc.js";

describe("rocAuc", () => {
  it("agrees with a hand-checked example", () => {
    // Anomalies score 0.35 and 0.8, normals 0.1 and 0.4: of the 4 (anomaly, normal) pairs,
    // 3 are ordered right (0.35 > 0.1, 0.8 > 0.1, 0.8 > 0.4), so AUC = 3/4.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  });

  it("counts ties as one half", () => {
    // Pairs: (0.5 vs 0.5) tie = ½, (0.5 vs 0.2) = 1, (0.9 vs 0.5) = 1, (0.9 vs 0.2) = 1 → 3.5/4.
    expect(rocAuc([0.5, 0.9, 0.5, 0.2], [1, 1, 0, 0])).toBe(0.875);
    expect(rocAuc([1, 1, 1], [1, 0, 0])).toBe(0.5);
  });

  it("is 1 for a perfect ranking, 0 for a reversed one, NaN with one class", () => {
    expect(rocAuc([3, 2, 1], [1, 0, 0])).toBe(1);
    expect(rocAuc([1, 2, 3], [1, 0, 0])).toBe(0);
    expect(rocAuc([1, 2], [0, 0])).toBeNaN();
  });
});

describe("meanSd", () => {
  it("uses the sample standard deviation", () => {
    const { mean, sd } = meanSd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(mean).toBe(5);
    // Σ(x − 5)² = 32, n − 1 = 7
    expect(sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(meanSd([3]).sd).toBe(0);
  });
});
