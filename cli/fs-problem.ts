/** What a user reads for the file-system errors a path on the command line meets. */
const WHY: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
};

/**
 * Why a file could not be read, in a few words: `no such file or directory` rather than
 * `ENOENT: no such file or directory, open 'x'` (the path is said by the caller). Takes the
 * error, or the message of one that crossed a thread.
 */
export function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string" && WHY[code] !== undefined) return WHY[code];
  const message = err instanceof Error ? err.message : String(err);
  const m = /^(E[A-Z]+): /.exec(message);
  return m !== null && WHY[m[1] as string] !== undefined ? (WHY[m[1] as string] as string) : message;
}

/** Whether `err` is one of the file-system errors {@link readProblem} words, with the path it met. */
export function isPathProblem(err: unknown): err is NodeJS.ErrnoException & { path: string } {
  const e = err as NodeJS.ErrnoException | undefined;
  return typeof e?.path === "string" && typeof e.code === "string" && WHY[e.code] !== undefined;
}
