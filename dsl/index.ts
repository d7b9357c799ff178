/** The rule language: public face of dsl/. Imports nothing from the rest of Vigil. */
export type * as Ast from "./ast.js";
export { ACTION_CATALOGUE, type ActionSpec, type ActionParamSpec } from "./actions.js";
export { SEVERITIES, type Severity } from "./check/rules.js";
export type { CompiledList, Getter, Predicate } from "./compile/conditions.js";
export { keyText, toNumber } from "./compile/values.js";
export type {
  ActionArgValue,
  CompiledAbsent,
  CompiledAction,
  CompiledAnomaly,
  CompiledCorrelation,
  CompiledFirstSeen,
  CompiledModel,
  CompiledRule,
  CompiledSequence,
  CompiledStep,
  CompiledThreshold,
  KeySpec,
} from "./compile/rules.js";
export type { StepSlot } from "./compile/conditions.js";
export { parseEventTime } from "./time.js";
export { FUNCTIONS, luhn } from "./functions.js";
export { type Diagnostic, formatDiagnostic } from "./diagnostics.js";
export { type EventFields, fieldReader, getField, splitFieldPath } from "./fields.js";
export { DEFAULT_SETTINGS, loadPack, parseListFile, type CompiledPack, type LoadOptions, type PackFile, type PackSettings } from "./pack.js";
export { parseFile, type ParsedFile } from "./parser.js";
export { formatSource, printDecl, printExpr, printFile } from "./printer.js";
export { parseSchema } from "./check/schema.js";
export { SourceFile, type Span } from "./source.js";
