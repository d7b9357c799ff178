import { hash } from "node:crypto";
import type { Severity } from "../dsl/index.js";

/** A response action as planned on an alert: arguments resolved from the triggering event. */
export interface PlannedAction {
  readonly action: string;
  readonly mode: "enforce" | "dry_run" | "approve";
  readonly args: Readonly<Record<string, unknown>>;
}

export interface AlertEvidence {
  /** Ids of the events that made the rule fire, oldest first, capped. */
  readonly event_ids: readonly string[];
  /** Where each came from (`file:line`, `subject#seq`), when known. */
  readonly origins: readonly string[];
  /** How many more events there were beyond the cap. */
  readonly truncated: number;
}

export interface Alert {
  /** Deterministic: rule, key and first event; a replay or redelivery yields the same id. */
  readonly id: string;
  readonly rule: string;
  readonly rule_version: string;
  readonly title: string;
  readonly severity: Severity;
  readonly risk: number | undefined;
  readonly tags: readonly string[];
  /** The by-key values, e.g. `{"source.address": "203.0.113.7"}`. */
  readonly keys: Readonly<Record<string, unknown>>;
  /** Events in the window when the rule fired. */
  readonly count: number;
  /** The aggregate that crossed the threshold (distinct count, sum, …), where there is one. */
  readonly value: number | undefined;
  readonly first_event_at: string;
  readonly last_event_at: string;
  /** Event time at which the rule fired (a backtest reports this). */
  readonly fired_at: string;
  /** Wall-clock time of detection (live MTTD uses this). */
  readonly detected_at: string;
  readonly evidence: AlertEvidence;
  /** Hits suppressed after this alert (by `suppress`), counted here rather than lost. */
  suppressed: number;
  readonly actions: readonly PlannedAction[];
}

/** Alert id from rule, key and first event id: 32 hex digits of SHA-256. */
export function alertId(rule: string, keyString: string, firstEventId: string): string {
  // One-shot: the same digest as hashing the parts in turn, without a Hash object per alert.
  return hash("sha256", `${rule}\0${keyString}\0${firstEventId}`, "hex").slice(0, 32);
}
