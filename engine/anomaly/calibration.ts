/**
 * Score calibration: a raw isolation-forest score becomes its empirical quantile among the
 * scores of the model's own training rows — the fraction of the baseline that scores at or
 * below it. A threshold then means the same after every retrain: `> 0.99` flags what is
 * rarer than 99% of the baseline, whatever the raw scale of this forest (which moves with ψ,
 * the data and the trees drawn). Stored as quantile knots; interpolated linearly between.
 */
export interface Calibration {
  readonly method: "training-quantile";
  /** Raw training scores at the quantiles 0, 1/(k−1), …, 1 (non-decreasing). */
  readonly knots: readonly number[];
  /** Training rows the knots were taken from. */
  readonly rows: number;
}

export const DEFAULT_KNOTS = 1001;

/** Quantile knots of the training scores (type-7 quantiles, as numpy's default). */
export function fitCalibration(trainingScores: ArrayLike<number>, knots = DEFAULT_KNOTS): Calibration {
  const n = trainingScores.length;
  if (n === 0) throw new RangeError("cannot calibrate on no training scores");
  if (knots < 2) throw new RangeError("a calibration needs at least 2 knots");
  const sorted = Float64Array.from(trainingScores).sort();
  const out: number[] = [];
  for (let k = 0; k < knots; k++) {
    const h = ((n - 1) * k) / (knots - 1);
    const lo = Math.floor(h);
    const hi = Math.min(n - 1, lo + 1);
    out.push((sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number)));
  }
  return { method: "training-quantile", knots: out, rows: n };
}

/**
 * The calibrated score in [0, 1]: 0 below every training score, 1 above every one, the
 * interpolated quantile in between. Ties with a run of equal knots take the run's top.
 */
export function calibrate(c: Calibration, raw: number): number {
  const k = c.knots;
  const last = k.length - 1;
  if (Number.isNaN(raw)) return NaN;
  if (raw < (k[0] as number)) return 0;
  if (raw >= (k[last] as number)) return 1;
  // The last knot ≤ raw (binary search).
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((k[mid] as number) <= raw) lo = mid;
    else hi = mid;
  }
  const a = k[lo] as number;
  const b = k[hi] as number;
  const frac = b > a ? (raw - a) / (b - a) : 0;
  return (lo + frac) / last;
}
