import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { drawSplit, IsolationForest, subsample } from "./forest.js";
import { type Matrix, matrixFromRows } from "./matrix.js";
import { averagePathLength, heightLimit } from "./path-length.js";
import { seededRng } from "./rng.js";

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = seededRng(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng() * 100;
  return { rows, cols, data };
}

describe("c(n)", () => {
  it("matches the paper's formula, correctly bracketed", () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // 2·(ln 255 + γ) − 2·255/256, computed by hand: 2·(5.541263545 + 0.577215665) − 1.9921875
    expect(averagePathLength(256)).toBeCloseTo(10.244770925, 8);
    // 2·(ln 2 + γ) − 4/3 = 1.207392357…
    expect(averagePathLength(3)).toBeCloseTo(1.2073923571, 9);
    // The mis-bracketed form of ml-isolation-forest 0.1.0 gives about 9.667 for 256.
    expect(Math.abs(averagePathLength(256) - (2 * Math.log(255) + 0.5772 - (2 * 255) / 256))).toBeGreaterThan(0.5);
  });

  it("the height limit is ceil(log2 ψ)", () => {
    expect(heightLimit(256)).toBe(8);
    expect(heightLimit(257)).toBe(9);
    expect(heightLimit(100)).toBe(7);
    expect(heightLimit(2)).toBe(1);
    expect(heightLimit(1)).toBe(0);
  });
});

describe("IsolationForest", () => {
  it("never grows a tree deeper than ceil(log2 ψ)", () => {
    const x = randomMatrix(5000, 3, 7);
    const f = IsolationForest.fit(x, { trees: 50, sampleSize: 256, seed: 3 });
    expect(f.heightLimit).toBe(8);
    // With 256 distinct points, some branch reaches the limit; none goes past it.
    expect(f.maxDepth()).toBe(8);
    const g = IsolationForest.fit(x, { trees: 50, sampleSize: 64, seed: 3 });
    expect(g.maxDepth()).toBe(6);
  });

  it("same seed, same data: identical scores; another seed: different trees", () => {
    const x = randomMatrix(3000, 4, 11);
    const a = IsolationForest.fit(x, { seed: 42 }).scores(x);
    const b = IsolationForest.fit(x, { seed: 42 }).scores(x);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const c = IsolationForest.fit(x, { seed: 43 }).scores(x);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it("survives a JSON round trip with identical scores", () => {
    const x = randomMatrix(2000, 3, 5);
    const f = IsolationForest.fit(x, { seed: 9, trees: 20 });
    const g = IsolationForest.fromJSON(JSON.parse(JSON.stringify(f.toJSON())) as ReturnType<typeof f.toJSON>);
    expect(Array.from(g.scores(x))).toEqual(Array.from(f.scores(x)));
  });

  it("scores an isolated point higher than the points of a dense cluster", () => {
    const rows: number[][] = [];
    const rng = seededRng(1);
    for (let i = 0; i < 1000; i++) rows.push([rng(), rng()]);
    rows.push([10, 10]);
    const x = matrixFromRows(rows);
    const s = IsolationForest.fit(x, { seed: 1 }).scores(x);
    const outlier = s[1000] as number;
    expect(outlier).toBeGreaterThan(0.65);
    expect(Math.max(...Array.from(s.subarray(0, 1000)))).toBeLessThan(outlier);
  });

  it("normalises by c(ψ), not c(n): each tree holds ψ points", () => {
    // A constant table: no split is possible, every tree is one leaf holding its ψ points,
    // so E[h] = c(ψ) and the score is exactly 2^−1.
    const x: Matrix = { rows: 10_000, cols: 2, data: new Float64Array(20_000).fill(3) };
    const f = IsolationForest.fit(x, { sampleSize: 256, trees: 5 });
    expect(f.nodeCount).toBe(5);
    expect(f.pathLengths(x)[0]).toBeCloseTo(averagePathLength(256), 12);
    expect(f.scores(x)[0]).toBeCloseTo(0.5, 12);
  });

  it("rejects bad input with a clear message", () => {
    const x = randomMatrix(10, 2, 1);
    expect(() => IsolationForest.fit({ rows: 0, cols: 2, data: new Float64Array(0) })).toThrow(/empty/);
    expect(() => IsolationForest.fit(x, { trees: 0 })).toThrow(/trees/);
    expect(() => IsolationForest.fit(x).scores(randomMatrix(3, 3, 1))).toThrow(/takes 2 features/);
  });
});

describe("subsample", () => {
  it("draws ψ distinct rows, each about equally often", () => {
    const n = 50;
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    const rng = seededRng(123);
    const hits = new Array<number>(n).fill(0);
    const draws = 4000;
    for (let d = 0; d < draws; d++) {
      const s = Array.from(subsample(perm, 10, rng));
      expect(new Set(s).size).toBe(10);
      for (const i of s) hits[i] = (hits[i] as number) + 1;
    }
    // Expected 800 per row (4000 · 10/50); binomial sd ≈ 25: allow 6 sd.
    for (const h of hits) expect(Math.abs(h - 800)).toBeLessThan(150);
  });
});

/* ---- A simple recursive reference of the same trees ---- */

type RefNode = { leaf: true; size: number } | { leaf: false; f: number; t: number; l: RefNode; r: RefNode };

function refForest(x: number[][], trees: number, psiWanted: number, seed: number): { trees: RefNode[]; psi: number } {
  const n = x.length;
  const cols = x[0]?.length ?? 0;
  const psi = Math.min(psiWanted, n);
  const limit = Math.ceil(Math.log2(psi));
  const rng = seededRng(seed);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const scratch = new Int32Array(cols);
  const grow = (rows: number[], depth: number): RefNode => {
    if (depth >= limit || rows.length <= 1) return { leaf: true, size: rows.length };
    const split = drawSplit(cols, rng, (f) => [Math.min(...rows.map((r) => x[r]![f]!)), Math.max(...rows.map((r) => x[r]![f]!))], scratch);
    if (split === null) return { leaf: true, size: rows.length };
    const l = grow(rows.filter((r) => x[r]![split.feature]! < split.threshold), depth + 1);
    const r = grow(rows.filter((r) => !(x[r]![split.feature]! < split.threshold)), depth + 1);
    return { leaf: false, f: split.feature, t: split.threshold, l, r };
  };
  const out: RefNode[] = [];
  for (let i = 0; i < trees; i++) out.push(grow(Array.from(subsample(perm, psi, rng)), 0));
  return { trees: out, psi };
}

function refPath(node: RefNode, p: readonly number[], depth = 0): number {
  if (node.leaf) {
    const n = node.size;
    const c = n <= 1 ? 0 : n === 2 ? 1 : 2 * (Math.log(n - 1) + 0.5772156649015329) - (2 * (n - 1)) / n;
    return depth + c;
  }
  return refPath(p[node.f]! < node.t ? node.l : node.r, p, depth + 1);
}

describe("flat forest against a recursive reference", () => {
  const value = fc.integer({ min: -5, max: 5 }).map((v) => v / 2); // few values: ties and constant features
  test.prop(
    [
      fc.integer({ min: 1, max: 4 }).chain((cols) =>
        fc.tuple(fc.constant(cols), fc.array(fc.array(value, { minLength: cols, maxLength: cols }), { minLength: 1, maxLength: 80 })),
      ),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer(),
      fc.array(fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 10 }),
    ],
    { numRuns: 200 },
  )("same path lengths for training and unseen points", ([cols, rows], trees, psi, seed, probes) => {
    const forest = IsolationForest.fit(matrixFromRows(rows), { trees, sampleSize: psi, seed });
    const ref = refForest(rows, trees, psi, seed);
    const points = [...rows, ...probes.map((p) => p.slice(0, cols))];
    const got = forest.pathLengths(matrixFromRows(points));
    points.forEach((p, i) => {
      const want = ref.trees.reduce((s, t) => s + refPath(t, p), 0) / trees;
      expect(got[i]).toBeCloseTo(want, 10);
    });
  });
});
