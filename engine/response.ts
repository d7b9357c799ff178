/**
 * Automated response, as the engine side sees it: alerts carry planned actions
 * (`Alert.actions`); a `ResponseDispatcher` turns them into response actions with
 * deterministic ids and runs them through `Responder`s (connectors/responders/ implements
 * both). Nothing here does I/O.
 */
import { createHash } from "node:crypto";
import type { Alert, PlannedAction } from "./alert.js";

export type ActionMode = PlannedAction["mode"];

/** One response action to carry out: a planned action of one alert, with its id. */
export interface ResponseAction {
  /** Deterministic: {@link responseActionId} of alert id, action name and arguments. */
  readonly id: string;
  readonly alert_id: string;
  readonly incident_id: string | null;
  /** The catalogue name (`block_ip`, `lock_account`, …). */
  readonly action: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly mode: ActionMode;
  /** Wall-clock expiry of a reversible action with a duration (epoch ms), set when it is taken. */
  readonly until: number | null;
}

/** What a responder was handed with an action. */
export interface ResponseContext {
  /** The alert that planned it; absent when an action is resumed or approved after a restart. */
  readonly alert: Alert | undefined;
  /** Aborted when the attempt times out: a responder stops and throws. */
  readonly signal: AbortSignal;
  /** Wall clock at the start of the attempt (epoch ms). */
  readonly now: number;
}

/** The typed outcome of an action, stored on the incident and in the audit log. */
export type ActionOutcome =
  | { readonly status: "done"; readonly detail?: string }
  | { readonly status: "skipped"; readonly reason: string }
  | { readonly status: "failed"; readonly reason: string };

/**
 * A target that carries out some actions (Redis, NATS, nftables, an identity provider, a
 * webhook). `execute` throws for a failure worth retrying (a target that is down) and
 * returns `failed` for one that is not (a request the target refused).
 */
export interface Responder {
  /** Its name in logs, outcomes, the circuit breaker and the configuration (`redis`, `nats`, …). */
  readonly kind: string;
  /** The catalogue actions it handles. */
  readonly actions: readonly string[];
  execute(action: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome>;
  /** Undoes an action it carried out (a block, a lock); absent when it has nothing to undo. */
  reverse?(action: ResponseAction, ctx: ResponseContext): Promise<ActionOutcome>;
  /** What `execute` would do, in words, for dry runs (`ZADD security:blocked-ips …`). */
  describe?(action: ResponseAction): string;
  close?(): Promise<void>;
}

/** Who asked for an approval or an undo through the API. */
export interface ResponseActor {
  readonly kind: "user" | "api_key" | "system";
  readonly id: string;
}

export type ResponseResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: "E_NOT_FOUND" | "E_INVALID" | "E_CONFLICT";
      readonly message: string;
    };

/** What the pipeline and the API see of the response side. */
export interface ResponseDispatcher {
  /**
   * Records the planned actions of new alerts (durably, once per action id) and queues them;
   * resolves once they are recorded, never waiting for a target.
   */
  dispatch(alerts: readonly Alert[]): Promise<void>;
  /** Runs an action awaiting approval (`POST /actions/:id/approve`). */
  approve(id: string, actor: ResponseActor): Promise<ResponseResult>;
  /** Undoes an action now (`POST /actions/:id/undo`). */
  undo(id: string, actor: ResponseActor): Promise<ResponseResult>;
  /** Resolves when every queued action has an outcome (tests, shutdown). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Canonical JSON: object keys sorted, so equal arguments give equal text. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(",")}}`;
}

/** Action id from alert id, action name and canonical arguments: 32 hex digits of SHA-256. */
export function responseActionId(
  alertId: string,
  action: string,
  args: Readonly<Record<string, unknown>>,
): string {
  return createHash("sha256")
    .update(alertId)
    .update("\0")
    .update(action)
    .update("\0")
    .update(canonicalJson(args))
    .digest("hex")
    .slice(0, 32);
}
