/** Where a command writes: stdout for results, stderr for diagnostics and summaries. */
export interface Io {
  out(line: string): void;
  /** Several lines of stdout at once (fewer writes); when absent, `out` each. */
  outMany?(lines: readonly string[]): void;
  err(line: string): void;
  /** Ends the process now (after stdout is flushed) — when a bounded shutdown expires. */
  exit?(code: number): void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(line + "\n"),
  outMany: (lines) => {
    if (lines.length > 0) process.stdout.write(lines.join("\n") + "\n");
  },
  err: (line) => process.stderr.write(line + "\n"),
  exit: (code) => void process.stdout.write("", () => process.exit(code)),
};
