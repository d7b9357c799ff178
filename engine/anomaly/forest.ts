import type { Matrix } from "./matrix.js";
import type { AnomalyModel, ForestParams } from "./model.js";
import { averagePathLength, heightLimit } from "./path-length.js";
import { type Rng, seededRng } from "./rng.js";

export const DEFAULT_TREES = 100;
export const DEFAULT_SAMPLE_SIZE = 256;

/** The serialisable form of a native forest (typed arrays as base64, little-endian). */
export interface ForestJson {
  readonly format: "vigil-iforest/1";
  readonly trees: number;
  readonly sampleSize: number;
  readonly features: number;
  readonly seed: number;
  readonly heightLimit: number;
  /** Offset of each tree's root in the node arrays (trees + 1 entries, the last one the node count). */
  readonly roots: string;
  /** Per node: split feature, or −1 for a leaf. */
  readonly feature: string;
  /** Per node: split threshold (x < threshold goes left); for a leaf, depth + c(size). */
  readonly value: string;
  /** Per node: index of the left child (the right child follows it). */
  readonly left: string;
}

/**
 * Draws ψ distinct row indices uniformly (a partial Fisher–Yates shuffle of `perm`, which
 * may hold any permutation of 0…n−1; it is left permuted). Returns the first ψ entries.
 */
export function subsample(perm: Int32Array, psi: number, rng: Rng): Int32Array {
  const n = perm.length;
  for (let i = 0; i < psi; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
  return perm.subarray(0, psi);
}

/**
 * The split of a node: a feature drawn uniformly among those not constant on the node's
 * points, and a threshold uniform between its min and max (as in the paper and in
 * scikit-learn). Null when every feature is constant. Shared by the flat builder and the
 * reference implementation in the tests, so that both draw the same numbers.
 */
export function drawSplit(
  cols: number,
  rng: Rng,
  range: (feature: number) => readonly [number, number],
  scratch: Int32Array,
): { feature: number; threshold: number } | null {
  for (let i = 0; i < cols; i++) scratch[i] = i;
  let remaining = cols;
  while (remaining > 0) {
    const j = Math.floor(rng() * remaining);
    const f = scratch[j] as number;
    const [lo, hi] = range(f);
    if (hi > lo) {
      let t = lo + rng() * (hi - lo);
      // Both sides must get points: x < t goes left, and the min always does.
      if (!(t > lo) || !(t <= hi)) t = lo + (hi - lo) / 2;
      if (!(t > lo)) t = hi;
      return { feature: f, threshold: t };
    }
    scratch[j] = scratch[remaining - 1] as number;
    remaining--;
  }
  return null;
}

/**
 * The native isolation forest (Liu, Ting and Zhou 2008): t trees, each grown on its own
 * subsample of ψ rows without replacement up to height ceil(log2 ψ), a leaf completed with
 * c(size); seeded; trees kept as flat typed arrays (no training rows are kept).
 */
export class IsolationForest implements AnomalyModel {
  readonly implementation = "native" as const;

  private constructor(
    readonly trees: number,
    readonly sampleSize: number,
    readonly features: number,
    readonly seed: number,
    readonly heightLimit: number,
    private readonly roots: Int32Array,
    private readonly feature: Int32Array,
    private readonly value: Float64Array,
    private readonly left: Int32Array,
  ) {}

  static fit(x: Matrix, params: ForestParams = {}): IsolationForest {
    const trees = params.trees ?? DEFAULT_TREES;
    const seed = params.seed ?? 1;
    if (!Number.isInteger(trees) || trees < 1) throw new RangeError(`trees must be a whole number ≥ 1, got ${trees}`);
    if (x.rows < 1) throw new RangeError("cannot train on an empty table");
    if (x.cols < 1) throw new RangeError("cannot train on a table without features");
    const psi = Math.min(params.sampleSize ?? DEFAULT_SAMPLE_SIZE, x.rows);
    if (!Number.isInteger(psi) || psi < 1) throw new RangeError(`sampleSize must be a whole number ≥ 1, got ${params.sampleSize}`);
    const limit = heightLimit(psi);
    const maxNodes = 2 * psi - 1;
    const feature = new Int32Array(trees * maxNodes);
    const value = new Float64Array(trees * maxNodes);
    const left = new Int32Array(trees * maxNodes);
    const roots = new Int32Array(trees + 1);
    const rng = seededRng(seed);
    const perm = new Int32Array(x.rows);
    for (let i = 0; i < x.rows; i++) perm[i] = i;
    const idx = new Int32Array(psi);
    const scratch = new Int32Array(x.cols);
    const { data, cols } = x;
    let next = 0;

    // Grows the subtree of the node at index `at` (already allocated).
    const buildInto = (at: number, lo: number, hi: number, depth: number): void => {
      const size = hi - lo;
      const split =
        depth >= limit || size <= 1
          ? null
          : drawSplit(cols, rng, (f) => {
              let mn = Infinity;
              let mx = -Infinity;
              for (let i = lo; i < hi; i++) {
                const v = data[(idx[i] as number) * cols + f] as number;
                if (v < mn) mn = v;
                if (v > mx) mx = v;
              }
              return [mn, mx];
            }, scratch);
      if (split === null) {
        feature[at] = -1;
        value[at] = depth + averagePathLength(size);
        return;
      }
      const f = split.feature;
      const t = split.threshold;
      let i = lo;
      let j = hi - 1;
      while (i <= j) {
        if ((data[(idx[i] as number) * cols + f] as number) < t) i++;
        else {
          const tmp = idx[i] as number;
          idx[i] = idx[j] as number;
          idx[j] = tmp;
          j--;
        }
      }
      feature[at] = f;
      value[at] = t;
      const l = next;
      next += 2;
      left[at] = l;
      buildInto(l, lo, i, depth + 1);
      buildInto(l + 1, i, hi, depth + 1);
    };

    for (let tr = 0; tr < trees; tr++) {
      roots[tr] = next;
      idx.set(subsample(perm, psi, rng));
      const root = next++;
      buildInto(root, 0, psi, 0);
    }
    roots[trees] = next;
    return new IsolationForest(trees, psi, x.cols, seed, limit, roots, feature.slice(0, next), value.slice(0, next), left.slice(0, next));
  }

  /** Number of nodes over all trees. */
  get nodeCount(): number {
    return this.roots[this.trees] as number;
  }

  /**
   * Traversal arrays, derived once: a leaf loops onto itself (threshold −∞, right child
   * itself), so every row walks exactly `heightLimit` steps without a branch on leaves, and
   * the step is `n = right[n] − (x[f] < t)`.
   */
  private walk: { feat: Int32Array; thr: Float64Array; right: Int32Array; leaf: Float64Array } | undefined;

  private traversal(): NonNullable<IsolationForest["walk"]> {
    if (this.walk !== undefined) return this.walk;
    const n = this.feature.length;
    const feat = new Int32Array(n);
    const thr = new Float64Array(n);
    const right = new Int32Array(n);
    const leaf = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const f = this.feature[i] as number;
      if (f < 0) {
        thr[i] = -Infinity;
        right[i] = i;
        leaf[i] = this.value[i] as number;
      } else {
        feat[i] = f;
        thr[i] = this.value[i] as number;
        right[i] = (this.left[i] as number) + 1;
      }
    }
    this.walk = { feat, thr, right, leaf };
    return this.walk;
  }

  /** The mean path length E[h(x)] of each row over the trees (leaves completed with c(size)). */
  pathLengths(x: Matrix): Float64Array {
    this.checkCols(x);
    const out = new Float64Array(x.rows);
    const { feat, thr, right, leaf } = this.traversal();
    const { roots, trees } = this;
    const steps = this.heightLimit;
    const data = x.data;
    const cols = x.cols;
    // Tree-major over blocks of rows (one tree's nodes stay in cache for a block), four rows
    // walked at once (independent load chains overlap).
    const BLOCK = 1024;
    for (let b0 = 0; b0 < x.rows; b0 += BLOCK) {
      const b1 = Math.min(x.rows, b0 + BLOCK);
      for (let tr = 0; tr < trees; tr++) {
        const root = roots[tr] as number;
        let r = b0;
        for (; r + 3 < b1; r += 4) {
          const p0 = r * cols;
          const p1 = p0 + cols;
          const p2 = p1 + cols;
          const p3 = p2 + cols;
          let n0 = root;
          let n1 = root;
          let n2 = root;
          let n3 = root;
          for (let d = 0; d < steps; d++) {
            n0 = (right[n0] as number) - (((data[p0 + (feat[n0] as number)] as number) < (thr[n0] as number)) as unknown as number);
            n1 = (right[n1] as number) - (((data[p1 + (feat[n1] as number)] as number) < (thr[n1] as number)) as unknown as number);
            n2 = (right[n2] as number) - (((data[p2 + (feat[n2] as number)] as number) < (thr[n2] as number)) as unknown as number);
            n3 = (right[n3] as number) - (((data[p3 + (feat[n3] as number)] as number) < (thr[n3] as number)) as unknown as number);
          }
          out[r] = (out[r] as number) + (leaf[n0] as number);
          out[r + 1] = (out[r + 1] as number) + (leaf[n1] as number);
          out[r + 2] = (out[r + 2] as number) + (leaf[n2] as number);
          out[r + 3] = (out[r + 3] as number) + (leaf[n3] as number);
        }
        for (; r < b1; r++) {
          const p = r * cols;
          let n = root;
          for (let d = 0; d < steps; d++) n = (right[n] as number) - (((data[p + (feat[n] as number)] as number) < (thr[n] as number)) as unknown as number);
          out[r] = (out[r] as number) + (leaf[n] as number);
        }
      }
    }
    for (let r = 0; r < x.rows; r++) out[r] = (out[r] as number) / trees;
    return out;
  }

  /** Anomaly scores s(x) = 2^(−E[h(x)] / c(ψ)) in (0, 1]. */
  scores(x: Matrix): Float64Array {
    const h = this.pathLengths(x);
    const c = averagePathLength(this.sampleSize);
    for (let i = 0; i < h.length; i++) h[i] = c === 0 ? 0.5 : Math.pow(2, -(h[i] as number) / c);
    return h;
  }

  /** One tree's nodes (for tests and inspection): arrays from its root's offset. */
  tree(i: number): { feature: Int32Array; value: Float64Array; left: Int32Array; root: number } {
    if (i < 0 || i >= this.trees) throw new RangeError(`no tree ${i}`);
    return { feature: this.feature, value: this.value, left: this.left, root: this.roots[i] as number };
  }

  /** Depth of the deepest leaf over all trees. */
  maxDepth(): number {
    let deepest = 0;
    const walk = (n: number, d: number): void => {
      if ((this.feature[n] as number) < 0) deepest = Math.max(deepest, d);
      else {
        walk(this.left[n] as number, d + 1);
        walk((this.left[n] as number) + 1, d + 1);
      }
    };
    for (let t = 0; t < this.trees; t++) walk(this.roots[t] as number, 0);
    return deepest;
  }

  toJSON(): ForestJson {
    return {
      format: "vigil-iforest/1",
      trees: this.trees,
      sampleSize: this.sampleSize,
      features: this.features,
      seed: this.seed,
      heightLimit: this.heightLimit,
      roots: b64(this.roots),
      feature: b64(this.feature),
      value: b64(this.value),
      left: b64(this.left),
    };
  }

  static fromJSON(j: ForestJson): IsolationForest {
    if (j.format !== "vigil-iforest/1") throw new RangeError(`unknown forest format ${JSON.stringify(j.format)}`);
    const roots = new Int32Array(unb64(j.roots));
    const feature = new Int32Array(unb64(j.feature));
    const value = new Float64Array(unb64(j.value));
    const left = new Int32Array(unb64(j.left));
    const nodes = roots[j.trees];
    if (roots.length !== j.trees + 1 || nodes !== feature.length || nodes !== value.length || nodes !== left.length) {
      throw new RangeError("corrupt forest: node arrays do not match the tree count");
    }
    for (let n = 0; n < nodes; n++) {
      const f = feature[n] as number;
      if (f >= j.features || (f >= 0 && ((left[n] as number) <= n || (left[n] as number) + 1 >= nodes))) throw new RangeError(`corrupt forest: bad node ${n}`);
    }
    return new IsolationForest(j.trees, j.sampleSize, j.features, j.seed, j.heightLimit, roots, feature, value, left);
  }

  private checkCols(x: Matrix): void {
    if (x.cols !== this.features) throw new RangeError(`the model takes ${this.features} features, the rows have ${x.cols}`);
  }
}

function b64(a: Int32Array | Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

function unb64(s: string): ArrayBuffer {
  const buf = Buffer.from(s, "base64");
  const out = new ArrayBuffer(buf.length);
  new Uint8Array(out).set(buf);
  return out;
}
