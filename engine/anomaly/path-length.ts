/** Euler–Mascheroni constant. */
export const EULER_GAMMA = 0.5772156649015329;

/**
 * c(n): the average path length of an unsuccessful search in a binary search tree of n
 * points (Liu, Ting and Zhou 2008, eq. 1): 2·H(n−1) − 2(n−1)/n with H(i) ≈ ln(i) + γ;
 * c(2) = 1 and c(n ≤ 1) = 0. It normalises path lengths and completes a leaf that holds
 * more than one point.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** The tree height limit for a subsample of ψ points: ceil(log2 ψ). */
export function heightLimit(psi: number): number {
  return psi <= 1 ? 0 : Math.ceil(Math.log2(psi));
}
