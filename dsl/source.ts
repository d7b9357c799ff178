/** A source file of the rule language, with the line table that turns offsets into positions. */
export interface Span {
  /** Offset of the first character (0-based, UTF-16 units). */
  readonly start: number;
  /** Offset one past the last character. */
  readonly end: number;
}

export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly col: number;
}

export class SourceFile {
  private lineStarts: number[] | undefined;

  constructor(
    /** The path as the user named it; shown in diagnostics. */
    readonly path: string,
    readonly text: string,
  ) {}

  private starts(): number[] {
    if (this.lineStarts === undefined) {
      const starts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) starts.push(i + 1);
      this.lineStarts = starts;
    }
    return this.lineStarts;
  }

  /** Line and column of an offset; computed only when a diagnostic is shown. */
  position(offset: number): Position {
    const starts = this.starts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (starts[lo] as number) + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const starts = this.starts();
    const from = starts[line - 1] ?? this.text.length;
    const next = starts[line];
    const to = next === undefined ? this.text.length : next - 1;
    return this.text.slice(from, to).replace(/\r$/, "");
  }
}
