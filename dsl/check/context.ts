import type * as A from "../ast.js";
import { type Diagnostic, type DiagnosticSeverity, makeDiagnostic } from "../diagnostics.js";
import type { SourceFile, Span } from "../source.js";

/** A declaration with the file it came from. */
export interface Located<D extends A.Decl = A.Decl> {
  readonly decl: D;
  readonly source: SourceFile;
}

/** What the pack declares, by name. */
export interface Symbols {
  readonly macros: Map<string, Located<A.MacroDecl>>;
  readonly lists: Map<string, Located<A.ListDecl>>;
  readonly params: Map<string, Located<A.ParamDecl>>;
  readonly rules: Map<string, Located<A.RuleDecl>>;
  readonly models: Map<string, Located<A.ModelDecl>>;
  readonly settings: Located<A.SettingsDecl>[];
}

/** Collects diagnostics for one pack and remembers which declarations are broken. */
export class CheckContext {
  readonly diagnostics: Diagnostic[] = [];
  /** Declarations with at least one error: left out of the compiled pack. */
  readonly broken = new Set<A.Decl>();

  /**
   * Names of sequence steps whose fields may be read where the checker is now (`fail.user.name`
   * in a later step, `success.user.name` in an action).
   */
  stepScope: ReadonlySet<string> = new Set();

  /**
   * Names of the rule's sequence steps that cannot be read where the checker is now: the step
   * itself and later ones in a step, every step in `when` and `except`.
   */
  unreadableSteps: ReadonlySet<string> = new Set();

  /** Whether a field schema is configured (its check then reports unknown names). */
  hasSchema = false;

  /** Names of declarations that did not parse (a use of one is a broken dependency, not an unknown name). */
  unparsed: ReadonlySet<string> = new Set();

  constructor(readonly symbols: Symbols) {}

  error(at: Located, span: Span, code: string, message: string): void {
    this.report(at, span, code, message, "error");
  }

  warn(at: Located, span: Span, code: string, message: string): void {
    this.report(at, span, code, message, "warning");
  }

  private report(at: Located, span: Span, code: string, message: string, severity: DiagnosticSeverity): void {
    this.diagnostics.push(makeDiagnostic(at.source, span, code, message, severity));
    if (severity === "error") this.broken.add(at.decl);
  }
}

/** A single-segment field path: a candidate macro or list name. */
export function bareName(e: A.Expr): string | undefined {
  return e.kind === "field" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(e.path) ? e.path : undefined;
}
