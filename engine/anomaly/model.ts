import type { Matrix } from "./matrix.js";

/** The isolation-forest implementations Vigil can train. */
export type Implementation = "native" | "ml-isolation-forest";

export interface ForestParams {
  /** Number of trees (t). Default 100. */
  readonly trees?: number;
  /** Subsample size per tree (ψ). Default 256, capped at the number of rows. */
  readonly sampleSize?: number;
  /** PRNG seed: same seed and data, same model. Default 1. */
  readonly seed?: number;
}

/**
 * A trained anomaly model: raw scores in [0, 1] as in the isolation-forest paper,
 * s(x) = 2^(−E[h(x)] / c(ψ)); higher is more anomalous.
 */
export interface AnomalyModel {
  readonly implementation: Implementation;
  /** Number of features a row must have. */
  readonly features: number;
  scores(x: Matrix): Float64Array;
}
