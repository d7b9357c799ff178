import type { SourceFile, Span } from "./source.js";

export type DiagnosticSeverity = "error" | "warning";

/**
 * A problem found in a rule pack. Diagnostics are values: the parser and checker return
 * them, they never throw them at the caller.
 */
export interface Diagnostic {
  /** Stable code, e.g. `E_SYNTAX`, `E_UNKNOWN_NAME`; tests and tooling match on it. */
  readonly code: string;
  readonly severity: DiagnosticSeverity;
  /** What is wrong and what to do about it. */
  readonly message: string;
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  readonly span: Span;
  /** The source line the diagnostic points into. */
  readonly sourceLine: string;
}

export function makeDiagnostic(
  src: SourceFile,
  span: Span,
  code: string,
  message: string,
  severity: DiagnosticSeverity = "error",
): Diagnostic {
  const { line, col } = src.position(span.start);
  return { code, severity, message, file: src.path, line, col, span, sourceLine: src.lineText(line) };
}

/** `file:line:col: message`, then the source line and a caret under the column. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.file}:${d.line}:${d.col}: ${d.severity === "warning" ? "warning: " : ""}${d.message} [${d.code}]`;
  const line = d.sourceLine.replace(/\t/g, " ");
  const width = Math.max(1, Math.min(d.span.end - d.span.start, line.length - d.col + 1));
  const caret = " ".repeat(Math.max(0, d.col - 1)) + "^" + "~".repeat(Math.max(0, width - 1));
  return `${head}\n  ${line}\n  ${caret}`;
}

/** The error type of the language: thrown only inside dsl/ and turned into diagnostics at its edge. */
export class DslError extends Error {
  override readonly name = "DslError";
  constructor(
    readonly code: string,
    message: string,
    readonly span: Span,
  ) {
    super(message);
  }
}
