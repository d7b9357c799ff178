import { IsolationForest as MlIsolationForest } from "ml-isolation-forest";
import type { Matrix } from "./matrix.js";
import type { AnomalyModel } from "./model.js";

export interface MlAdapterParams {
  /** Number of trees (the library's nEstimators). Default 100. */
  readonly trees?: number;
}

function toRows(x: Matrix): number[][] {
  const rows: number[][] = new Array<number[]>(x.rows);
  for (let i = 0; i < x.rows; i++) rows[i] = Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols));
  return rows;
}

/**
 * The platform-named library `ml-isolation-forest` 0.1.0 behind Vigil's model interface, kept
 * for comparison. It is used as published, so its defects stay visible in the evaluation:
 * every tree is grown on the whole training set, c(n) is mis-bracketed, Math.random is
 * unseeded (runs are not reproducible) and the training rows are kept in the leaves.
 * Prefer the native forest (`forest.ts`).
 */
export class MlIsolationForestAdapter implements AnomalyModel {
  readonly implementation = "ml-isolation-forest" as const;

  private constructor(
    private readonly model: MlIsolationForest,
    readonly features: number,
  ) {}

  static fit(x: Matrix, params: MlAdapterParams = {}): MlIsolationForestAdapter {
    if (x.rows < 1 || x.cols < 1) throw new RangeError("cannot train on an empty table");
    const model = new MlIsolationForest({ nEstimators: params.trees ?? 100 });
    model.train(toRows(x));
    return new MlIsolationForestAdapter(model, x.cols);
  }

  scores(x: Matrix): Float64Array {
    if (x.cols !== this.features) throw new RangeError(`the model takes ${this.features} features, the rows have ${x.cols}`);
    return Float64Array.from(this.model.predict(toRows(x)));
  }
}
