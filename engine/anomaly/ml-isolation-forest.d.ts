// Types for ml-isolation-forest 0.1.0, which ships none (its lib/index.js, read for this).
declare module "ml-isolation-forest" {
  export class IsolationForest {
    constructor(options?: { nEstimators?: number });
    nEstimators: number;
    /** Grows every tree on the whole training set (no subsampling), with unseeded Math.random. */
    train(trainingSet: number[][]): void;
    /** Scores in (0, 1], higher is more anomalous. */
    predict(data: number[][]): number[];
  }
}
