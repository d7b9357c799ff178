/**
 * The action framework: turns the planned actions of alerts into response actions with
 * deterministic ids, claims each once in the ledger (so a replay, a redelivery or a restart
 * never repeats it), and runs it in the background — bounded concurrency, a timeout per
 * attempt, retries with backoff, a circuit breaker per responder, the guards — recording a
 * typed outcome in the ledger and the audit log. Reversible actions are undone when their
 * time is up by a scheduler that polls the ledger, so the schedule survives restarts.
 */
import { pino, type Logger } from "pino";
import type { Alert } from "../../engine/alert.js";
import type { AlertSink } from "../../engine/pipeline.js";
import {
  type ActionMode,
  type ActionOutcome,
  type Responder,
  type ResponseAction,
  type ResponseActor,
  type ResponseDispatcher,
  type ResponseResult,
  responseActionId,
} from "../../engine/response.js";
import type { ActionLedger, AuditLog, ResponseActionRecord } from "../store/types.js";
import { TARGET_PARAM, canonicalIp, describeAction, durationMs, isReversible, textArg } from "./args.js";
import { type Allowlist, type RateCap, mostCautious } from "./guards.js";
import {
  type BreakerPolicy,
  CircuitBreaker,
  DEFAULT_BREAKER,
  DEFAULT_RETRY,
  PermanentError,
  type RetryPolicy,
  backoffMs,
  errorText,
  sleep,
  withTimeout,
} from "./resilience.js";

export interface ModeConfig {
  /** Mode of every action unless something more cautious applies. Default enforce. */
  readonly default?: ActionMode;
  /** Per rule name. */
  readonly rules?: Readonly<Record<string, ActionMode>>;
  /** Per action name. */
  readonly actions?: Readonly<Record<string, ActionMode>>;
}

export interface DispatcherOptions {
  readonly ledger: ActionLedger;
  readonly audit: AuditLog;
  readonly responders: readonly Responder[];
  readonly allowlist: Allowlist;
  readonly rateCap: RateCap;
  /** Break-glass: every action becomes a dry run. A function is read before each action. */
  readonly breakGlass?: boolean | (() => boolean);
  readonly modes?: ModeConfig;
  readonly retry?: Partial<RetryPolicy>;
  readonly breaker?: Partial<BreakerPolicy>;
  /** Actions running at once. Default 4. */
  readonly concurrency?: number;
  /** Actions held in memory; beyond it they wait in the ledger as pending. Default 10 000. */
  readonly maxQueue?: number;
  /** How often due reversals (and pending actions left by a restart) are looked for. Default 5 s. */
  readonly pollMs?: number;
  /** Resume actions left pending (by a crash, or a full queue) on each poll. Default true. */
  readonly resumePending?: boolean;
  /** Wall clock (epoch ms); injectable for tests. */
  readonly now?: () => number;
  /** The incident an alert joined, to record actions on it. */
  readonly resolveIncident?: (alertId: string) => Promise<string | null>;
  readonly logger?: Logger;
}

interface Item {
  readonly action: ResponseAction;
  readonly alert: Alert | undefined;
  readonly rule: string | undefined;
  /** Found by a ledger sweep: re-read before running (it may have finished since the sweep read it). */
  readonly recheck?: boolean;
}

interface ResponderOutcome {
  readonly kind: string;
  readonly outcome: ActionOutcome;
  readonly attempts: number;
}

const SYSTEM = { kind: "system", id: "responder" } as const;

export function toResponseAction(r: ResponseActionRecord): ResponseAction {
  return {
    id: r.id,
    alert_id: r.alert_id,
    incident_id: r.incident_id,
    action: r.action,
    args: r.args,
    mode: r.mode,
    until: r.reverse_at === null ? null : Date.parse(r.reverse_at),
  };
}

export class ActionDispatcher implements ResponseDispatcher {
  private readonly retry: RetryPolicy;
  private readonly breakerPolicy: BreakerPolicy;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly queue: Item[] = [];
  /** Ids queued or running here, so a ledger sweep does not start them twice. */
  private readonly known = new Set<string>();
  private readonly reversing = new Set<string>();
  private running = 0;
  private idle: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: DispatcherOptions) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.breakerPolicy = { ...DEFAULT_BREAKER, ...opts.breaker };
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? pino({ level: "silent" });
  }

  /** The dispatcher as a pipeline sink: new alerts' actions are recorded, then run in the background. */
  asSink(): AlertSink {
    return { name: "responders", write: (alerts) => this.dispatch(alerts) };
  }

  /** Starts the poll for due reversals and left-over pending actions (first poll at once). */
  start(): void {
    if (this.timer !== undefined) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.pollMs ?? 5_000);
    this.timer.unref();
  }

  responderFor(action: string): Responder[] {
    return this.opts.responders.filter((r) => r.actions.includes(action));
  }

  private breaker(kind: string): CircuitBreaker {
    let b = this.breakers.get(kind);
    if (b === undefined) this.breakers.set(kind, (b = new CircuitBreaker(this.breakerPolicy)));
    return b;
  }

  private breakGlass(): boolean {
    const b = this.opts.breakGlass;
    return typeof b === "function" ? b() : b === true;
  }

  async dispatch(alerts: readonly Alert[]): Promise<void> {
    for (const alert of alerts) {
      if (alert.actions.length === 0) continue;
      const incident = (await this.opts.resolveIncident?.(alert.id)) ?? null;
      for (const planned of alert.actions) {
        const args: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(planned.args)) if (v !== undefined) args[k] = v;
        const m = this.opts.modes;
        const mode = mostCautious(
          planned.mode,
          m?.default,
          m?.rules?.[alert.rule],
          m?.actions?.[planned.action],
        );
        const id = responseActionId(alert.id, planned.action, args);
        const claimed = await this.opts.ledger.claim({
          id,
          incident_id: incident,
          alert_id: alert.id,
          action: planned.action,
          args,
          mode,
          created_at: new Date(this.now()).toISOString(),
          reverse_at: null,
          status: mode === "approve" ? "awaiting_approval" : "pending",
        });
        if (!claimed) {
          this.log.debug({ action_id: id, action: planned.action }, "action already recorded: not repeated");
          continue;
        }
        const action: ResponseAction = {
          id,
          alert_id: alert.id,
          incident_id: incident,
          action: planned.action,
          args,
          mode,
          until: null,
        };
        if (mode === "approve") continue; // the ledger's claim is audited with its status
        this.enqueue({ action, alert, rule: alert.rule });
      }
    }
  }

  private enqueue(item: Item): void {
    if (this.known.has(item.action.id) || this.closed) return;
    if (this.queue.length >= (this.opts.maxQueue ?? 10_000)) {
      this.log.warn(
        { action_id: item.action.id },
        "response queue full: the action waits in the ledger as pending",
      );
      return;
    }
    this.known.add(item.action.id);
    this.queue.push(item);
    this.pump();
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 4;
    while (this.running < limit && this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.running++;
      void this.run(item)
        .catch((err: unknown) =>
          this.log.error(
            { err, action_id: item.action.id },
            "response action crashed; it stays pending and is retried on the next poll",
          ),
        )
        .finally(() => {
          this.running--;
          this.known.delete(item.action.id);
          this.pump();
          if (this.running === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
        });
    }
  }

  drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Why an action does not run at all (before any responder is called), or undefined. An
   * approved action (mode `approve`, now pending) is not counted against the rate cap: the cap
   * guards against runaway automation, and a person decided this one.
   */
  private precheck(a: ResponseAction, now: number): string | undefined {
    const refused = this.refusal(a);
    if (refused !== undefined) return refused;
    if (a.mode !== "approve" && !this.opts.rateCap.take(a.action, now))
      return `rate cap: more than ${this.opts.rateCap.limit(a.action)} ${a.action} actions in the last minute`;
    return undefined;
  }

  /** Why an action cannot run whoever decides it: no target, allowlisted, no responder. */
  private refusal(a: ResponseAction): string | undefined {
    const param = TARGET_PARAM[a.action];
    const target = param === undefined ? undefined : textArg(a.args, param);
    if (param !== undefined && target === undefined)
      return `missing argument ${param}: the triggering event had no value for it`;
    if (param === "ip" && canonicalIp(target) === undefined)
      return `not an address: ${JSON.stringify(target)}`;
    const refused = this.opts.allowlist.refuses(a.action, a.args);
    if (refused !== undefined) return refused;
    if (this.responderFor(a.action).length === 0) {
      return a.action === "open_incident"
        ? "the incident store opens an incident for every alert"
        : `no responder configured for ${a.action}`;
    }
    return undefined;
  }

  private describe(a: ResponseAction): string {
    const parts = this.responderFor(a.action).map((r) =>
      r.describe === undefined ? r.kind : `${r.kind}: ${r.describe(a)}`,
    );
    return `would ${describeAction(a)}${parts.length > 0 ? ` (${parts.join("; ")})` : ""}`;
  }

  private async run(item: Item): Promise<void> {
    if (item.recheck === true && (await this.opts.ledger.get(item.action.id))?.status !== "pending") return;
    const now = this.now();
    const base = item.action;
    let outcome: ActionOutcome;
    let per: ResponderOutcome[] = [];
    let until: number | null = null;
    if (this.breakGlass())
      outcome = { status: "skipped", reason: `dry_run (break-glass): ${this.describe(base)}` };
    else if (base.mode === "dry_run")
      outcome = { status: "skipped", reason: `dry_run: ${this.describe(base)}` };
    else {
      const refused = this.precheck(base, now);
      if (refused !== undefined) outcome = { status: "skipped", reason: refused };
      else {
        const d = isReversible(base.action) ? durationMs(base.action, base.args) : undefined;
        until = d === undefined ? null : now + d;
        const action: ResponseAction = { ...base, until };
        per = await Promise.all(
          this.responderFor(base.action).map((r) => this.attempt(r, "execute", action, item.alert)),
        );
        outcome = combine(per);
      }
    }
    const attempts = per.reduce((m, p) => Math.max(m, p.attempts), 0);
    const reverseAt = outcome.status === "done" && until !== null ? new Date(until).toISOString() : null;
    const reason = outcome.status === "done" ? (outcome.detail ?? null) : outcome.reason;
    await this.opts.ledger.complete(base.id, {
      status: outcome.status,
      reason,
      attempts,
      reverse_at: reverseAt,
    });
    // The ledger audits the outcome (action.done|skipped|failed with reason and attempts).
    const level = outcome.status === "failed" ? "warn" : "info";
    this.log[level](
      { action_id: base.id, action: base.action, status: outcome.status, reason },
      `response ${describeAction(base)}: ${outcome.status}`,
    );
  }

  /** One responder, with timeout, retries and its circuit breaker. */
  private async attempt(
    r: Responder,
    op: "execute" | "reverse",
    action: ResponseAction,
    alert: Alert | undefined,
  ): Promise<ResponderOutcome> {
    const breaker = this.breaker(r.kind);
    let last = "";
    let n = 0;
    for (let i = 1; i <= this.retry.attempts; i++) {
      const now = this.now();
      if (!breaker.allow(now))
        return {
          kind: r.kind,
          attempts: n,
          outcome: {
            status: "failed",
            reason: `${r.kind}: circuit open after repeated failures${last === "" ? "" : ` (last: ${last})`}`,
          },
        };
      n++;
      try {
        const outcome = await withTimeout(this.retry.timeoutMs, (signal) => {
          const ctx = { alert, signal, now };
          if (op === "execute") return r.execute(action, ctx);
          return r.reverse === undefined
            ? Promise.resolve<ActionOutcome>({ status: "skipped", reason: "nothing to undo" })
            : r.reverse(action, ctx);
        });
        breaker.success();
        return {
          kind: r.kind,
          attempts: n,
          outcome:
            outcome.status === "failed"
              ? { status: "failed", reason: `${r.kind}: ${outcome.reason}` }
              : outcome,
        };
      } catch (err) {
        last = errorText(err);
        if (err instanceof PermanentError) {
          breaker.success();
          return { kind: r.kind, attempts: n, outcome: { status: "failed", reason: `${r.kind}: ${last}` } };
        }
        breaker.failure(this.now());
        this.log.warn(
          { action_id: action.id, responder: r.kind, attempt: n, err: last },
          `${op} ${action.action} failed`,
        );
        if (i < this.retry.attempts) await sleep(backoffMs(this.retry, i));
      }
    }
    return {
      kind: r.kind,
      attempts: n,
      outcome: { status: "failed", reason: `${r.kind}: ${last} (after ${n} attempts)` },
    };
  }

  /** One poll: due reversals at the wall clock, then actions left pending. */
  tick(): Promise<void> {
    this.ticking ??= this.doTick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async doTick(): Promise<void> {
    try {
      const due = await this.opts.ledger.dueReversals(new Date(this.now()), 100);
      for (const rec of due) {
        if (this.reversing.has(rec.id)) continue;
        await this.reverse(rec, SYSTEM, "action.reversed", "expired");
      }
      if (this.opts.resumePending !== false && !this.closed) {
        const pending = await this.opts.ledger.list({ status: "pending" }, 500);
        for (const rec of pending)
          if (!this.known.has(rec.id))
            this.enqueue({ action: toResponseAction(rec), alert: undefined, rule: undefined, recheck: true });
      }
    } catch (err) {
      this.log.error({ err: errorText(err) }, "response poll failed; retried on the next poll");
    }
  }

  private async reverse(
    rec: ResponseActionRecord,
    actor: ResponseActor,
    auditAction: string,
    why: string,
  ): Promise<ResponseResult> {
    this.reversing.add(rec.id);
    try {
      const action = toResponseAction(rec);
      if (this.responderFor(rec.action).length === 0) {
        // Configured away since it was taken: nothing here can undo it; say so, once.
        await this.opts.audit.append(actor, "action.reverse_skipped", rec.id, {
          alert_id: rec.alert_id,
          incident_id: rec.incident_id,
          action: rec.action,
          args: rec.args,
          why,
          reason: `no responder configured for ${rec.action}: undo it by hand`,
        });
        await this.opts.ledger.markReversed(rec.id, new Date(this.now()));
        return { ok: true };
      }
      const per = await Promise.all(
        this.responderFor(rec.action).map((r) => this.attempt(r, "reverse", action, undefined)),
      );
      const failed = per.filter((p) => p.outcome.status === "failed");
      const details = {
        alert_id: rec.alert_id,
        incident_id: rec.incident_id,
        action: rec.action,
        args: rec.args,
        why,
        responders: per.map((p) => ({ kind: p.kind, status: p.outcome.status, attempts: p.attempts })),
      };
      if (failed.length > 0) {
        const reason = failed.map((p) => ("reason" in p.outcome ? p.outcome.reason : p.kind)).join("; ");
        await this.opts.audit.append(actor, "action.reverse_failed", rec.id, { ...details, reason });
        this.log.warn(
          { action_id: rec.id, reason },
          `reversal of ${rec.action} failed; retried on the next poll`,
        );
        return { ok: false, code: "E_CONFLICT", message: `could not undo ${rec.action}: ${reason}` };
      }
      if (auditAction !== "action.reversed")
        await this.opts.audit.append(actor, auditAction, rec.id, details);
      await this.opts.ledger.markReversed(rec.id, new Date(this.now())); // audited by the ledger as action.reversed
      this.log.info({ action_id: rec.id, action: rec.action, why }, `reversed ${describeAction(rec)}`);
      return { ok: true };
    } finally {
      this.reversing.delete(rec.id);
    }
  }

  async approve(id: string, actor: ResponseActor): Promise<ResponseResult> {
    const rec = await this.opts.ledger.get(id);
    if (rec === undefined) return { ok: false, code: "E_NOT_FOUND", message: `no action ${id}` };
    // An approval that could not run is refused, and the action keeps waiting (to be rejected
    // with undo, or approved once the configuration allows it), instead of being used up.
    if (rec.status === "awaiting_approval") {
      const refused = this.breakGlass() ? "break-glass is on: every action is a dry run" : this.refusal(toResponseAction(rec));
      if (refused !== undefined)
        return {
          ok: false,
          code: "E_CONFLICT",
          message: `action ${id} cannot run: ${refused}; it is still awaiting approval (undo rejects it)`,
        };
    }
    if (!(await this.opts.ledger.approve(id, actor)))
      return {
        ok: false,
        code: "E_CONFLICT",
        message: `action ${id} is ${rec.status}, not awaiting approval`,
      };
    this.enqueue({
      action: toResponseAction({ ...rec, status: "pending" }),
      alert: undefined,
      rule: undefined,
    });
    return { ok: true };
  }

  async undo(id: string, actor: ResponseActor): Promise<ResponseResult> {
    const rec = await this.opts.ledger.get(id);
    if (rec === undefined) return { ok: false, code: "E_NOT_FOUND", message: `no action ${id}` };
    if (rec.status === "awaiting_approval") {
      await this.opts.ledger.complete(id, {
        status: "skipped",
        reason: `rejected by ${actor.kind} ${actor.id}`,
        attempts: 0,
        reverse_at: null,
      });
      await this.opts.audit.append(actor, "action.rejected", id, {
        alert_id: rec.alert_id,
        incident_id: rec.incident_id,
        action: rec.action,
        args: rec.args,
      });
      return { ok: true };
    }
    if (rec.status === "reversed")
      return {
        ok: false,
        code: "E_CONFLICT",
        message: `action ${id} was already undone at ${rec.reversed_at ?? "?"}`,
      };
    if (rec.status !== "done")
      return {
        ok: false,
        code: "E_CONFLICT",
        message: `action ${id} is ${rec.status}: only a done action can be undone`,
      };
    if (!isReversible(rec.action))
      return { ok: false, code: "E_INVALID", message: `${rec.action} cannot be undone` };
    if (this.reversing.has(id))
      return { ok: false, code: "E_CONFLICT", message: `action ${id} is being undone` };
    return this.reverse(rec, actor, "action.undo", `undone by ${actor.kind} ${actor.id}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.drain();
    for (const r of this.opts.responders) await r.close?.();
  }
}

/** All responders' outcomes as one: failed if any failed, done if any did it, else skipped. */
export function combine(per: readonly ResponderOutcome[]): ActionOutcome {
  const failed = per.filter((p) => p.outcome.status === "failed");
  if (failed.length > 0) {
    const done = per.filter((p) => p.outcome.status === "done").map((p) => p.kind);
    const reasons = failed.map((p) => ("reason" in p.outcome ? p.outcome.reason : p.kind)).join("; ");
    return {
      status: "failed",
      reason: done.length > 0 ? `${reasons} (done by ${done.join(", ")})` : reasons,
    };
  }
  const done = per.filter((p) => p.outcome.status === "done");
  if (done.length > 0)
    return {
      status: "done",
      detail: done
        .map((p) =>
          "detail" in p.outcome && p.outcome.detail !== undefined ? `${p.kind}: ${p.outcome.detail}` : p.kind,
        )
        .join("; "),
    };
  return {
    status: "skipped",
    reason: per.map((p) => ("reason" in p.outcome ? `${p.kind}: ${p.outcome.reason}` : p.kind)).join("; "),
  };
}

export { PermanentError };
