/**
 * The incident store's contract: what `vigil run` writes through, what the API reads
 * through and what the responders record their actions in. Implemented on PostgreSQL
 * (`pg`) and on PGlite (the embedded default) with the same SQL.
 *
 * Every method that fails for a reason the caller can act on returns a `StoreError` value
 * (never throws for it); a broken connection throws (the caller retries).
 */
import type { Severity } from "../../dsl/index.js";
import type { Alert, PlannedAction } from "../../engine/index.js";
import type { AlertSink } from "../../engine/pipeline.js";

export type IncidentState = "new" | "acknowledged" | "contained" | "resolved" | "false_positive";
export const OPEN_STATES: readonly IncidentState[] = ["new", "acknowledged", "contained"];

export type Role = "viewer" | "analyst" | "responder" | "admin";

/** Who did something: shown in the audit log and on transitions. */
export interface Actor {
  readonly kind: "user" | "api_key" | "system";
  /** The user's subject (JWT `sub`), the API key's id, or a component name (`engine`, `responder`). */
  readonly id: string;
}

export interface StoreError {
  readonly code: "E_NOT_FOUND" | "E_BAD_TRANSITION" | "E_CONFLICT" | "E_INVALID";
  readonly message: string;
}
export type Result<T> = { ok: true; value: T } | { ok: false; error: StoreError };

export interface Incident {
  readonly id: string;
  readonly rule: string;
  readonly title: string;
  readonly severity: Severity;
  readonly state: IncidentState;
  /** The by-key values of the rule that opened it. */
  readonly keys: Readonly<Record<string, unknown>>;
  /** The service whose events raised it (`service.name` of the evidence), when known. */
  readonly service: string | null;
  readonly assignee: string | null;
  readonly alert_count: number;
  /** Earliest malicious event time over its alerts (MTTD starts here). */
  readonly first_event_at: string;
  /** Wall-clock detection time of its first alert (MTTD ends, MTTR starts here). */
  readonly detected_at: string;
  readonly acknowledged_at: string | null;
  readonly contained_at: string | null;
  readonly resolved_at: string | null;
  /** When it was resolved or closed as a false positive. */
  readonly closed_at: string | null;
  readonly updated_at: string;
}

export interface Transition {
  readonly from: IncidentState;
  readonly to: IncidentState;
  readonly at: string;
  readonly actor: Actor;
  readonly reason: string | null;
}

export interface Comment {
  readonly id: string;
  readonly at: string;
  readonly actor: Actor;
  readonly text: string;
}

/** An alert as stored: the alert record plus the incident it joined. */
export interface StoredAlert {
  readonly id: string;
  readonly incident_id: string;
  readonly rule: string;
  readonly rule_version: string;
  readonly severity: Severity;
  readonly keys: Readonly<Record<string, unknown>>;
  readonly count: number;
  readonly first_event_at: string;
  readonly last_event_at: string;
  readonly fired_at: string;
  readonly detected_at: string;
  readonly suppressed: number;
  readonly evidence: Alert["evidence"];
  readonly actions: readonly PlannedAction[];
}

export interface IncidentDetail extends Incident {
  readonly alerts: readonly StoredAlert[];
  /** Evidence events frozen on the incident (masked where rules say so), oldest first. */
  readonly events: readonly { readonly id: string; readonly at: string; readonly fields: Readonly<Record<string, unknown>> }[];
  readonly transitions: readonly Transition[];
  readonly comments: readonly Comment[];
  readonly actions: readonly ResponseActionRecord[];
}

export interface IncidentFilter {
  readonly state?: readonly IncidentState[];
  readonly severity?: readonly Severity[];
  readonly rule?: string;
  readonly assignee?: string;
  readonly service?: string;
  /** Detection time range, ISO 8601, inclusive from / exclusive to. */
  readonly from?: string;
  readonly to?: string;
}

export interface AlertFilter {
  readonly rule?: string;
  readonly severity?: readonly Severity[];
  readonly incident_id?: string;
  readonly from?: string;
  readonly to?: string;
}

/** A page of results; `next_cursor` is opaque, null on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next_cursor: string | null;
}

// ---------------------------------------------------------------- audit log

export interface AuditEntry {
  /** Position in the chain, 1-based, gap-free until pruning. */
  readonly seq: number;
  readonly at: string;
  readonly actor: Actor;
  /** What was done: `incident.transition`, `incident.comment`, `action.done`, `apikey.create`, … */
  readonly action: string;
  /** What it was done to: an incident id, an action id, a key id. */
  readonly target: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** Hash of the previous entry (or the anchor after pruning); hex SHA-256. */
  readonly prev_hash: string;
  /** SHA-256 over prev_hash and this entry's canonical JSON. */
  readonly hash: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  /** Where the kept chain starts after pruning (the hash the first kept entry links to). */
  readonly anchor: string | null;
  /** The first entry at which verification fails, and why. */
  readonly failed_at?: number;
  readonly reason?: string;
}

export interface AuditLog {
  append(actor: Actor, action: string, target: string, details: Readonly<Record<string, unknown>>): Promise<AuditEntry>;
  list(afterSeq: number, limit: number): Promise<readonly AuditEntry[]>;
  verify(): Promise<AuditVerification>;
  /** Removes entries older than `retentionDays` before `now`, recording an anchor. Returns how many. */
  prune(retentionDays: number, now: Date): Promise<number>;
}

// ---------------------------------------------------------------- KPIs

export interface KpiQuery {
  /** Detection time range, ISO 8601. */
  readonly from: string;
  readonly to: string;
  readonly rule?: string;
  readonly severity?: Severity;
  readonly service?: string;
}

export interface Kpis {
  readonly from: string;
  readonly to: string;
  readonly incidents: number;
  readonly alerts: number;
  /** Mean first-event → detection, ms, over incidents detected live; null with none. */
  readonly mttd_ms: number | null;
  /** Incidents left out of MTTD: detected over an hour after their rule fired (backfilled or replayed logs). */
  readonly mttd_excluded: number;
  /** Mean detection → containment (resolution when containment was skipped), ms. */
  readonly mttr_contain_ms: number | null;
  /** Mean detection → resolution, ms. */
  readonly mttr_resolve_ms: number | null;
  /** Closed as false positive over all closed (resolved + false positive); null when none closed. */
  readonly false_positive_rate: number | null;
  /** Services seen emitting in the last N minutes over the services expected to. */
  readonly coverage: { readonly expected: number; readonly seen: number; readonly ratio: number | null; readonly missing: readonly string[] } | null;
}

// ---------------------------------------------------------------- response actions

export type ActionMode = "enforce" | "dry_run" | "approve";
export type ActionStatus = "pending" | "awaiting_approval" | "done" | "skipped" | "failed" | "reversed";

export interface ResponseActionRecord {
  /** Deterministic: alert id, action name and arguments; a redelivery never repeats it. */
  readonly id: string;
  readonly incident_id: string | null;
  readonly alert_id: string;
  readonly action: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly mode: ActionMode;
  readonly status: ActionStatus;
  readonly reason: string | null;
  readonly attempts: number;
  readonly created_at: string;
  readonly done_at: string | null;
  /** Wall-clock time when a reversible action is undone; null when it is not. */
  readonly reverse_at: string | null;
  readonly reversed_at: string | null;
}

/** Where the responders keep their actions, the reversal schedule and the approval queue. */
export interface ActionLedger {
  /** Inserts the action unless its id exists; true when this call inserted it (so it must run). */
  claim(action: Omit<ResponseActionRecord, "status" | "reason" | "attempts" | "done_at" | "reversed_at"> & { status: "pending" | "awaiting_approval" }): Promise<boolean>;
  complete(id: string, outcome: { status: "done" | "skipped" | "failed"; reason: string | null; attempts: number; reverse_at: string | null }): Promise<void>;
  /** Actions whose reversal is due at `now` (done, reversible, not yet reversed). */
  dueReversals(now: Date, limit: number): Promise<readonly ResponseActionRecord[]>;
  markReversed(id: string, at: Date): Promise<void>;
  get(id: string): Promise<ResponseActionRecord | undefined>;
  list(filter: { status?: ActionStatus; incident_id?: string }, limit: number): Promise<readonly ResponseActionRecord[]>;
  /** Moves an action awaiting approval to pending; false when it was not awaiting approval. */
  approve(id: string, actor: Actor): Promise<boolean>;
}

// ---------------------------------------------------------------- API keys

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly created_at: string;
  readonly revoked_at: string | null;
  readonly last_used_at: string | null;
}

export interface ApiKeyStore {
  /** Creates a key; the secret is returned once and only its hash is stored. */
  create(name: string, role: Role, actor: Actor): Promise<{ record: ApiKeyRecord; secret: string }>;
  /** The key for a presented secret, when it exists and is not revoked. */
  authenticate(secret: string): Promise<ApiKeyRecord | undefined>;
  /** Creates (or keeps) a key with a known secret: `VIGIL_BOOTSTRAP_API_KEY`. */
  bootstrap(secret: string, role: Role): Promise<ApiKeyRecord>;
  list(): Promise<readonly ApiKeyRecord[]>;
  revoke(id: string, actor: Actor): Promise<Result<ApiKeyRecord>>;
}

// ---------------------------------------------------------------- the store

export interface IncidentStoreOptions {
  /** Alerts of the same rule and key within this many ms of the incident's last alert join it. Default 1 h. */
  readonly groupWindowMs?: number;
}

export interface IncidentStore extends AlertSink {
  /** Runs pending migrations (idempotent; on start). */
  migrate(): Promise<void>;
  listIncidents(filter: IncidentFilter, limit: number, cursor: string | null): Promise<Page<Incident>>;
  getIncident(id: string): Promise<IncidentDetail | undefined>;
  transition(id: string, to: IncidentState, actor: Actor, reason: string | null): Promise<Result<Incident>>;
  assign(id: string, assignee: string | null, actor: Actor): Promise<Result<Incident>>;
  setSeverity(id: string, severity: Severity, actor: Actor): Promise<Result<Incident>>;
  comment(id: string, text: string, actor: Actor): Promise<Result<Comment>>;
  listAlerts(filter: AlertFilter, limit: number, cursor: string | null): Promise<Page<StoredAlert>>;
  /** Freezes evidence events on the incident of an alert (idempotent by event id). */
  attachEvents(alertId: string, events: readonly { id: string; at: string; fields: Readonly<Record<string, unknown>> }[]): Promise<void>;
  /** Records a rule version (fingerprint → source) once, for evidence. */
  recordRuleVersion(rule: string, version: string, source: string): Promise<void>;
  /** Records that a service emitted at `at` (coverage); batched by the caller. */
  recordServicesSeen(seen: ReadonlyMap<string, string>): Promise<void>;
  setExpectedServices(services: readonly string[]): Promise<void>;
  kpis(q: KpiQuery & { coverageWindowMinutes?: number; now?: Date }): Promise<Kpis>;
  readonly audit: AuditLog;
  readonly actions: ActionLedger;
  readonly apiKeys: ApiKeyStore;
  close(): Promise<void>;
}
