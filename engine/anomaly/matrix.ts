/** A dense table of numbers, row-major: the input of every anomaly model. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** rows × cols values, row after row. NaN stands for a missing value. */
  readonly data: Float64Array;
}

/** A matrix from an array of equally long rows. */
export function matrixFromRows(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw new RangeError(`row ${i} has ${r.length} values, expected ${cols}`);
    data.set(r, i * cols);
  });
  return { rows: rows.length, cols, data };
}

/** Row i as a plain array. */
export function matrixRow(m: Matrix, i: number): number[] {
  return Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
}
