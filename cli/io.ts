/** Where a command writes: stdout for results, stderr for diagnostics and summaries. */
export interface Io {
  out(line: string): void;
  /** Several lines of stdout at once (fewer writes); when absent, `out` each. */
  outMany?(lines: readonly string[]): void;
  err(line: string): void;
  /** Ends the process now (after stdout is flushed) — when a bounded shutdown expires. */
  exit?(code: number): void;
}

// When the reader of stdout goes away (`vigil replay … | head`), stop as a Unix filter does:
// quietly, at once (on JetStream that is a crash, which the checkpoints make safe).
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

export const processIo: Io = {
  out: (line) => process.stdout.write(line + "\n"),
  outMany: (lines) => {
    if (lines.length > 0) process.stdout.write(lines.join("\n") + "\n");
  },
  err: (line) => process.stderr.write(line + "\n"),
  exit: (code) => void process.stdout.write("", () => process.exit(code)),
};
