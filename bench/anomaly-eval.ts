/**
 * ROC AUC on the ODDS tables (suite `anomaly-eval`, run only when named): for each CSV in
 * ODDS_DIR (default ../shared/data/odds; last column the 0/1 label), mean ± sample sd over
 * `--seeds N` runs (default 10) of the native forest and scikit-learn's IsolationForest
 * (random_state 1…N), and of the ml-isolation-forest adapter (N repeated runs; it grows every
 * tree on the whole table, so tables over ADAPTER_LARGE rows get `--adapter-runs-large M`
 * runs, default 3), beside the paper's AUCs (Liu, Ting and Zhou, ICDM 2008, Table 3, as
 * transcribed in the data's SOURCE.md). 100 trees, ψ = 256, fit on the whole table, score every row.
 * Skips cleanly where the data is absent.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCsvTable } from "../engine/anomaly/csv-table.js";
import { evaluateTable } from "../engine/anomaly/evaluate.js";
import { PYTHON, sklearnAvailable } from "./anomaly.js";
import { printTable } from "./table.js";

/** Liu, Ting and Zhou 2008, Table 3, iForest AUC (from /work/shared/data/odds/SOURCE.md). */
export const PAPER_AUC: Readonly<Record<string, number>> = {
  shuttle: 1.0,
  mammography: 0.86,
  satellite: 0.71,
  smtp: 0.88,
  breastw: 0.99,
  pima: 0.67,
  http: 1.0,
  forestcover: 0.88,
  cover: 0.88,
  mulcross: 0.97,
  annthyroid: 0.82,
  arrhythmia: 0.8,
  ionosphere: 0.85,
};

const ADAPTER_LARGE = 20_000;

export interface AnomalyEvalOptions {
  readonly dir: string;
  readonly seeds: number;
  readonly adapterRunsLarge: number;
  readonly skipAdapter: boolean;
}

const pm = (m: number, sd: number) => `${m.toFixed(3)} ± ${sd.toFixed(3)}`;

export function benchAnomalyEval(root: string, o: AnomalyEvalOptions): void {
  if (!existsSync(o.dir)) {
    console.log(`\nanomaly-eval: skipped, ${o.dir} not found (the ODDS tables live in ../shared/data/odds)`);
    return;
  }
  const files = readdirSync(o.dir)
    .filter((f) => f.endsWith(".csv"))
    .sort();
  const haveSk = sklearnAvailable();
  const rows: string[][] = [];
  for (const f of files) {
    const table = parseCsvTable(readFileSync(join(o.dir, f), "utf8"), "last", f);
    const native = evaluateTable(table, { seeds: o.seeds, implementations: ["native"] }).native;
    const adapterRuns = table.x.rows > ADAPTER_LARGE ? o.adapterRunsLarge : o.seeds;
    const adapter = o.skipAdapter ? undefined : evaluateTable(table, { seeds: adapterRuns, implementations: ["ml-isolation-forest"] })["ml-isolation-forest"];
    let sk: { auc_mean: number; auc_sd: number } | undefined;
    if (haveSk) {
      const r = spawnSync(PYTHON, [join(root, "bench/external/sklearn_iforest.py"), "eval", join(o.dir, f), "--seeds", String(o.seeds)], {
        encoding: "utf8",
        env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
      });
      if (r.status === 0) sk = JSON.parse(r.stdout) as { auc_mean: number; auc_sd: number };
      else console.log(`sklearn failed on ${f}: ${r.stderr.trim().split("\n").pop() ?? ""}`);
    }
    const key = f.replace(/^\d+_/, "").replace(/\.csv$/, "").toLowerCase();
    const paper = PAPER_AUC[key];
    const n = native as NonNullable<typeof native>;
    rows.push([
      f,
      String(table.x.rows),
      pm(n.auc_mean, n.auc_sd),
      adapter === undefined ? "-" : `${pm(adapter.auc_mean, adapter.auc_sd)} (${adapterRuns})`,
      sk === undefined ? "-" : pm(sk.auc_mean, sk.auc_sd),
      sk === undefined ? "-" : (n.auc_mean - sk.auc_mean).toFixed(3),
      paper === undefined ? "-" : paper.toFixed(2),
    ]);
    console.error(`anomaly-eval: ${f} done`);
  }
  printTable(
    `anomaly-eval: ROC AUC, mean ± sd over ${o.seeds} seeds (adapter: runs in brackets), 100 trees, ψ = 256${haveSk ? "" : "; scikit-learn not found, skipped"}`,
    ["table", "rows", "native", "ml-isolation-forest", "scikit-learn", "native − sklearn", "paper"],
    rows,
  );
}
