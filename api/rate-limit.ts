/**
 * An exact sliding-window rate limiter: at most `limit` requests per key in any window of
 * `windowMs`. Each key keeps the times of its last `limit` admitted requests in a ring, so
 * a check is O(1) and a key costs `limit` numbers; idle keys are swept. Refused requests
 * are not counted.
 */

export interface RateLimitOptions {
  /** Requests admitted per window (≥ 1). */
  readonly limit: number;
  /** Window length in ms. Default 60 000. */
  readonly windowMs?: number;
  /** The clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

export type RateDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAfterMs: number };

interface Ring {
  readonly times: Float64Array;
  /** Index of the oldest admitted time (the next to overwrite once full). */
  head: number;
  size: number;
  newest: number;
}

const SWEEP_EVERY = 1024;

export class SlidingWindowLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly rings = new Map<string, Ring>();
  private calls = 0;

  constructor(opts: RateLimitOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new RangeError(`rate limit must be an integer ≥ 1, got ${opts.limit}`);
    const windowMs = opts.windowMs ?? 60_000;
    if (!(windowMs > 0)) throw new RangeError(`rate limit window must be > 0 ms, got ${windowMs}`);
    this.limit = opts.limit;
    this.windowMs = windowMs;
    this.now = opts.now ?? Date.now;
  }

  /** Admits (and counts) a request of `key`, or says how long until one would be admitted. */
  take(key: string): RateDecision {
    const now = this.now();
    if (++this.calls % SWEEP_EVERY === 0) this.sweep(now);
    let ring = this.rings.get(key);
    if (ring === undefined) {
      ring = { times: new Float64Array(this.limit), head: 0, size: 0, newest: now };
      this.rings.set(key, ring);
    }
    if (ring.size === this.limit) {
      const oldest = ring.times[ring.head] ?? 0;
      if (oldest > now - this.windowMs) return { ok: false, retryAfterMs: oldest + this.windowMs - now };
      ring.times[ring.head] = now;
      ring.head = (ring.head + 1) % this.limit;
    } else {
      ring.times[(ring.head + ring.size) % this.limit] = now;
      ring.size++;
    }
    ring.newest = now;
    return { ok: true };
  }

  /** Keys currently tracked (for tests and metrics). */
  get trackedKeys(): number {
    return this.rings.size;
  }

  private sweep(now: number): void {
    for (const [key, ring] of this.rings) if (ring.newest <= now - this.windowMs) this.rings.delete(key);
  }
}
