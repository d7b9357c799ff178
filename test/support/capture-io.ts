import type { Io } from "../../cli/io.js";

/** An Io that keeps what a command writes: stdout and stderr lines, and both as one text. */
export function captureIo(): Io & { outLines: string[]; errLines: string[]; text: () => string } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (l) => outLines.push(l), err: (l) => errLines.push(l), text: () => [...outLines, ...errLines].join("\n") };
}
