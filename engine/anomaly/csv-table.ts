import type { Matrix } from "./matrix.js";

/** A labelled numeric table read from CSV. */
export interface LabelledTable {
  readonly x: Matrix;
  readonly columns: readonly string[];
  /** 0/1 per row, when a label column was named. */
  readonly labels: Uint8Array | undefined;
  readonly labelColumn: string | undefined;
}

export class CsvError extends Error {
  constructor(
    readonly code: "E_CSV_EMPTY" | "E_CSV_WIDTH" | "E_CSV_NUMBER" | "E_CSV_LABEL" | "E_CSV_COLUMN",
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
  }
}

/**
 * Parses a numeric CSV table with a header line (plain comma-separated numbers, no quoting).
 * `label`: the name of the 0/1 label column (kept out of the features), or `"last"` for the
 * last column, or undefined for none. Empty cells are missing values (NaN).
 */
export function parseCsvTable(text: string, label: string | undefined, file = "<csv>"): LabelledTable {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === "") lines.pop();
  const header = lines[0];
  if (header === undefined || header.trim() === "") throw new CsvError("E_CSV_EMPTY", `${file}: empty file, expected a header line`, 1);
  const names = header.split(",").map((s) => s.trim());
  let labelAt = -1;
  if (label !== undefined) {
    labelAt = label === "last" ? names.length - 1 : names.indexOf(label);
    if (labelAt < 0) throw new CsvError("E_CSV_COLUMN", `${file}:1: no column named ${JSON.stringify(label)} (columns: ${names.join(", ")})`, 1);
  }
  const cols = names.length - (labelAt >= 0 ? 1 : 0);
  const rows = lines.length - 1;
  const data = new Float64Array(rows * cols);
  const labels = labelAt >= 0 ? new Uint8Array(rows) : undefined;
  for (let r = 0; r < rows; r++) {
    const line = lines[r + 1] as string;
    const cells = line.split(",");
    if (cells.length !== names.length) throw new CsvError("E_CSV_WIDTH", `${file}:${r + 2}: ${cells.length} cells, the header has ${names.length}`, r + 2);
    let c = 0;
    for (let k = 0; k < cells.length; k++) {
      const cell = (cells[k] as string).trim();
      if (k === labelAt) {
        if (cell !== "0" && cell !== "1") throw new CsvError("E_CSV_LABEL", `${file}:${r + 2}: label ${JSON.stringify(cell)} is not 0 or 1`, r + 2);
        (labels as Uint8Array)[r] = cell === "1" ? 1 : 0;
        continue;
      }
      const v = cell === "" ? NaN : Number(cell);
      if (cell !== "" && !Number.isFinite(v)) throw new CsvError("E_CSV_NUMBER", `${file}:${r + 2}: column ${names[k]}: ${JSON.stringify(cell)} is not a number`, r + 2);
      data[r * cols + c++] = v;
    }
  }
  return { x: { rows, cols, data }, columns: names.filter((_, i) => i !== labelAt), labels, labelColumn: labelAt >= 0 ? names[labelAt] : undefined };
}
