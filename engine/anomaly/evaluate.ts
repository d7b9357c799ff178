import { meanSd, rocAuc } from "./auc.js";
import type { LabelledTable } from "./csv-table.js";
import { IsolationForest } from "./forest.js";
import { MlIsolationForestAdapter } from "./ml-adapter.js";
import type { Implementation } from "./model.js";

export interface EvalOptions {
  /** Runs per implementation: seeds 1…N for the native forest, N repeated runs for the unseeded library. */
  readonly seeds: number;
  readonly trees?: number;
  readonly sampleSize?: number;
  readonly implementations?: readonly Implementation[];
}

export interface EvalResult {
  readonly aucs: readonly number[];
  readonly auc_mean: number;
  /** Sample standard deviation over the runs. */
  readonly auc_sd: number;
  readonly fit_ms: number;
  readonly score_ms: number;
}

/**
 * Unsupervised evaluation as in the isolation-forest paper: each run trains on the whole table
 * (labels unseen) and scores every row; ROC AUC of the scores against the labels.
 */
export function evaluateTable(table: LabelledTable, opts: EvalOptions): Partial<Record<Implementation, EvalResult>> {
  const labels = table.labels;
  if (labels === undefined) throw new RangeError("the table has no label column");
  const out: Partial<Record<Implementation, EvalResult>> = {};
  for (const impl of opts.implementations ?? (["native", "ml-isolation-forest"] as const)) {
    const aucs: number[] = [];
    let fitMs = 0;
    let scoreMs = 0;
    for (let s = 1; s <= opts.seeds; s++) {
      const t0 = performance.now();
      const model =
        impl === "native"
          ? IsolationForest.fit(table.x, { trees: opts.trees, sampleSize: opts.sampleSize, seed: s })
          : MlIsolationForestAdapter.fit(table.x, { trees: opts.trees });
      const t1 = performance.now();
      const scores = model.scores(table.x);
      const t2 = performance.now();
      fitMs += t1 - t0;
      scoreMs += t2 - t1;
      aucs.push(rocAuc(scores, labels));
    }
    const { mean, sd } = meanSd(aucs);
    out[impl] = { aucs, auc_mean: mean, auc_sd: sd, fit_ms: fitMs / opts.seeds, score_ms: scoreMs / opts.seeds };
  }
  return out;
}
