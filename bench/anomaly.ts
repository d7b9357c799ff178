/**
 * Isolation-forest costs (suite `anomaly`): fit time (100 trees, ψ = 256) and scoring
 * points/s on ROWS × 8 generated points (default 1,000,000), for the native forest, the
 * ml-isolation-forest adapter and scikit-learn's IsolationForest in the same run (one core:
 * n_jobs=1, OMP/BLAS threads 1; /usr/bin/python3 with sklearn, skipped with a note where it is
 * missing).
 *
 * Data: 99% of the rows from a Gaussian cloud (8 independent N(0, 1) features), 1% uniform in
 * [−6, 6]^8, from a seeded PRNG; written once as float64 for Python to read (same numbers).
 * Native: best of 3 fits and of 3 scorings of all rows. The adapter (the library grows every
 * tree on its whole training set and keeps the rows in the leaves) is fitted on the first ψ
 * rows, so its trees are the size of the native ones, and scores the first ADAPTER_ROWS rows
 * (it runs at ~15,000 points/s: all rows would take over a minute). sklearn: one fit, one
 * scoring of all rows (its own timers, interpreter start-up excluded).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rocAuc } from "../engine/anomaly/auc.js";
import { IsolationForest } from "../engine/anomaly/forest.js";
import type { Matrix } from "../engine/anomaly/matrix.js";
import { MlIsolationForestAdapter } from "../engine/anomaly/ml-adapter.js";
import { rng } from "./rng.js";
import { fmtRate, fmtRatio, printTable } from "./table.js";

export interface AnomalyBenchOptions {
  readonly rows: number;
}

const COLS = 8;
const TREES = 100;
const PSI = 256;
const ADAPTER_ROWS = 20_000;
export const PYTHON = "/usr/bin/python3";

function generate(rows: number): { x: Matrix; labels: Uint8Array } {
  const r = rng(20_081_215);
  const data = new Float64Array(rows * COLS);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const outlier = r() < 0.01;
    labels[i] = outlier ? 1 : 0;
    for (let c = 0; c < COLS; c++) {
      data[i * COLS + c] = outlier ? (r() - 0.5) * 12 : Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    }
  }
  return { x: { rows, cols: COLS, data }, labels };
}

function best<T>(n: number, f: () => T): { ms: number; value: T } {
  let ms = Infinity;
  let value: T | undefined;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    value = f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, value: value as T };
}

/** True when /usr/bin/python3 can import sklearn. */
export function sklearnAvailable(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import sklearn"], { stdio: "ignore" }).status === 0;
}

export async function benchAnomaly(root: string, o: AnomalyBenchOptions): Promise<void> {
  await Promise.resolve();
  const { x, labels } = generate(o.rows);
  const fit = best(3, () => IsolationForest.fit(x, { trees: TREES, sampleSize: PSI, seed: 1 }));
  const score = best(3, () => fit.value.scores(x));
  const nativeAuc = rocAuc(score.value, labels);
  const nativeRate = o.rows / (score.ms / 1000);

  const head: Matrix = { rows: PSI, cols: COLS, data: x.data.subarray(0, PSI * COLS) };
  const probeRows = Math.min(ADAPTER_ROWS, o.rows);
  const probe: Matrix = { rows: probeRows, cols: COLS, data: x.data.subarray(0, probeRows * COLS) };
  const aFit = best(1, () => MlIsolationForestAdapter.fit(head, { trees: TREES }));
  const aScore = best(1, () => aFit.value.scores(probe));
  const adapterRate = probeRows / (aScore.ms / 1000);

  let sk: { fit_s: number; score_s: number; points_per_s: number } | string;
  if (!sklearnAvailable()) sk = `skipped: ${PYTHON} with scikit-learn not found`;
  else {
    const dir = mkdtempSync(join(tmpdir(), "vigil-anomaly-bench-"));
    try {
      const file = join(dir, "x.f64");
      writeFileSync(file, new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength));
      const r = spawnSync(PYTHON, [join(root, "bench/external/sklearn_iforest.py"), "bench", file, String(o.rows), String(COLS), "--trees", String(TREES), "--psi", String(PSI)], {
        encoding: "utf8",
        env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" },
      });
      sk = r.status === 0 ? (JSON.parse(r.stdout) as { fit_s: number; score_s: number; points_per_s: number }) : `failed: ${r.stderr.trim().split("\n").pop() ?? ""}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const rows: string[][] = [
    ["native (Vigil)", fit.ms.toFixed(1), fmtRate(nativeRate), "1.00×", typeof sk === "string" ? "-" : fmtRatio(nativeRate / sk.points_per_s), nativeAuc.toFixed(4)],
    ["ml-isolation-forest adapter", aFit.ms.toFixed(1), fmtRate(adapterRate), fmtRatio(adapterRate / nativeRate), typeof sk === "string" ? "-" : fmtRatio(adapterRate / sk.points_per_s), "-"],
  ];
  if (typeof sk !== "string") rows.push(["scikit-learn 1.x IsolationForest", (sk.fit_s * 1000).toFixed(1), fmtRate(sk.points_per_s), fmtRatio(sk.points_per_s / nativeRate), "1.00×", "-"]);
  printTable(
    `anomaly: ${TREES} trees, ψ = ${PSI}; scoring ${o.rows.toLocaleString("en-US")} × ${COLS} points on one core (adapter: fitted on ${PSI} rows, scores ${probeRows.toLocaleString("en-US")})`,
    ["implementation", "fit ms", "points/s", "vs native", "vs sklearn", "AUC (1% outliers)"],
    rows,
  );
  if (typeof sk === "string") console.log(`scikit-learn: ${sk}`);
}
