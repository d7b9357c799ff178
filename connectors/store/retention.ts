/**
 * Audit retention on a timer: prunes entries older than `days` now and every `intervalMs`
 * (default daily). A failed prune (the database away) is logged and tried at the next tick.
 */
import type { AuditLog } from "./types.js";
import { DEFAULT_AUDIT_RETENTION_DAYS } from "./audit.js";

export interface RetentionOptions {
  readonly days?: number;
  readonly intervalMs?: number;
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
  readonly now?: () => Date;
}

export interface RetentionTimer {
  /** The prune in progress or the last one: resolves to the entries it removed. */
  readonly last: Promise<number>;
  stop(): void;
}

export function startAuditRetention(audit: AuditLog, o: RetentionOptions = {}): RetentionTimer {
  const days = o.days ?? DEFAULT_AUDIT_RETENTION_DAYS;
  if (!Number.isFinite(days) || days < 0) throw new RangeError(`audit retention must be a number of days ≥ 0, got ${days}`);
  const now = o.now ?? (() => new Date());
  const tick = (): Promise<number> =>
    audit.prune(days, now()).then(
      (removed) => {
        if (removed > 0) o.log?.("audit entries pruned", { removed, retention_days: days });
        return removed;
      },
      (e: unknown) => {
        o.log?.("audit pruning failed; will retry", { error: e instanceof Error ? e.message : String(e) });
        return 0;
      },
    );
  const timer: RetentionTimer & { last: Promise<number> } = {
    last: tick(),
    stop: () => clearInterval(handle),
  };
  const handle = setInterval(() => {
    timer.last = timer.last.then(tick);
  }, o.intervalMs ?? 86_400_000);
  handle.unref();
  return timer;
}
