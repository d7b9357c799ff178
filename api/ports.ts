/**
 * What the API needs besides the incident store: small interfaces that `vigil run` (the
 * composition root in cli/) implements with the real engine, rule loader and responders.
 */
import type { Actor, ResponseActionRecord, Result } from "../connectors/store/types.js";
import type { Severity } from "../dsl/index.js";

// ---------------------------------------------------------------- event ingest

export interface IngestRejection {
  /** 1-based line (NDJSON / text) or array index + 1 (a JSON array) of the refused event. */
  readonly line: number;
  readonly reason: string;
}

export interface IngestResult {
  readonly accepted: number;
  readonly rejected: readonly IngestRejection[];
}

/** Takes events sent to `POST /v1/events` into the pipeline. */
export interface EventIngest {
  /**
   * Decodes and enqueues the events of a request body. `contentType` is the request's
   * media type without parameters: `application/json` (one event or an array),
   * `application/x-ndjson` (one JSON event a line) or `text/plain` (log lines).
   * Resolves once accepted events are durable (or handed to the engine); every refused
   * line is listed with why. Never throws for bad input.
   */
  ingest(body: Buffer, contentType: string, actor: Actor): Promise<IngestResult>;
}

// ---------------------------------------------------------------- rules

export interface RuleInfo {
  readonly name: string;
  readonly title: string;
  readonly severity: Severity;
  readonly enabled: boolean;
  readonly version: string | null;
  /** Fingerprint of the rule's text (changes when it does). */
  readonly fingerprint: string;
  readonly tags: readonly string[];
  readonly location: { readonly file: string; readonly line: number; readonly col: number };
}

export interface RuleDiagnostic {
  readonly code: string;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface PackCheck {
  /** No errors (warnings allowed). */
  readonly ok: boolean;
  readonly rules: number;
  readonly diagnostics: readonly RuleDiagnostic[];
}

/** The loaded rule pack, as the API shows and administers it. */
export interface RuleAdmin {
  list(): Promise<readonly RuleInfo[]>;
  /** Checks pack sources without loading them. */
  check(files: readonly { readonly path: string; readonly text: string }[]): Promise<PackCheck>;
  /** Turns a loaded rule on or off (E_NOT_FOUND for an unknown rule). */
  setEnabled(name: string, enabled: boolean, actor: Actor): Promise<Result<RuleInfo>>;
  /** Reloads the pack from its files; a pack with errors is refused and the running one kept. */
  reload(actor: Actor): Promise<PackCheck & { readonly applied: boolean }>;
}

// ---------------------------------------------------------------- readiness

export interface ReadinessReport {
  readonly ready: boolean;
  /** Per dependency: `{ ok, detail? }`, e.g. `store`, `nats`, `redis`. */
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly detail?: string }>>;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
}

// ---------------------------------------------------------------- response actions

/**
 * Approves and undoes response actions (issue 7): the responders own execution, so the
 * API asks them. Each method records its own audit entry.
 */
export interface ActionControl {
  /** Runs an action that waits for approval (E_NOT_FOUND, E_CONFLICT when it is not awaiting approval). */
  approve(id: string, actor: Actor): Promise<Result<ResponseActionRecord>>;
  /** Reverses a done action now (E_NOT_FOUND, E_CONFLICT when it is not done or cannot be undone). */
  undo(id: string, actor: Actor): Promise<Result<ResponseActionRecord>>;
}

export interface ApiPorts {
  readonly ingest: EventIngest;
  readonly rules: RuleAdmin;
  readonly readiness: Readiness;
  readonly actions: ActionControl;
}
