/** Timeouts, retries with backoff and circuit breakers for calls to response targets. */

/** An error a responder throws for a failure that retrying will not fix (a 4xx, a bad argument). */
export class PermanentError extends Error {
  readonly permanent = true;
}

export interface RetryPolicy {
  /** Attempts in all (1 = no retry). */
  readonly attempts: number;
  /** Backoff before attempt n+1: base·2^(n-1), capped, with up to 20 % jitter. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** Per attempt. */
  readonly timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 250, maxMs: 5_000, timeoutMs: 5_000 };

export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(raw * (1 + 0.2 * random()));
}

export class TimeoutError extends Error {}

/** Runs `fn` with an AbortSignal that fires after `ms`; rejects with TimeoutError then. */
export async function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new TimeoutError(`timed out after ${ms} ms`));
      ctl.abort(); // after the rejection, so the timeout (not the target's abort error) is the reason
    }, ms);
  });
  try {
    return await Promise.race([fn(ctl.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface BreakerPolicy {
  /** Consecutive failed attempts that open the circuit. */
  readonly failures: number;
  /** How long it stays open before one trial call is let through. */
  readonly cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerPolicy = { failures: 5, cooldownMs: 30_000 };

/**
 * Closed → (failures in a row) → open → (cooldown) → half-open: one trial call; success
 * closes it, failure opens it again.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openedAt: number | undefined;
  private trial = false;

  constructor(private readonly policy: BreakerPolicy) {}

  get state(): "closed" | "open" | "half_open" {
    if (this.openedAt === undefined) return "closed";
    return this.trial ? "half_open" : "open";
  }

  /** Whether a call may go through at `now`; in half-open, only one does. */
  allow(now: number): boolean {
    if (this.openedAt === undefined) return true;
    if (this.trial) return false;
    if (now - this.openedAt >= this.policy.cooldownMs) {
      this.trial = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.consecutive = 0;
    this.openedAt = undefined;
    this.trial = false;
  }

  failure(now: number): void {
    this.consecutive++;
    if (this.trial || this.consecutive >= this.policy.failures) {
      this.openedAt = now;
      this.trial = false;
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
