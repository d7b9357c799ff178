import type { InfluxDB } from "influx";
import type { ScoreRecord } from "../../engine/anomaly/scorer.js";

export const SCORE_MEASUREMENT = "vigil_anomaly_score";

/**
 * Writes anomaly scores to InfluxDB 1.x: measurement `vigil_anomaly_score`, tags `model` and
 * `key`, fields `score` (calibrated), `raw`, `version`, `fired` and `event_id`, at the event
 * time (ms). Buffered: `add` is synchronous (the engine's hot path), `flush` writes the batch
 * and is also called when BATCH points are waiting. A failed write keeps the points for the
 * next flush (at most MAX_BUFFER; the oldest are dropped and counted beyond that).
 */
export class InfluxScoreWriter {
  private buffer: ScoreRecord[] = [];
  private inFlight: Promise<void> | undefined;
  /** Points dropped because the buffer was full (InfluxDB unreachable for long). */
  dropped = 0;

  constructor(
    private readonly influx: InfluxDB,
    private readonly opts: { readonly batch?: number; readonly maxBuffer?: number; readonly onError?: (err: Error) => void } = {},
  ) {}

  add(s: ScoreRecord): void {
    this.buffer.push(s);
    const max = this.opts.maxBuffer ?? 100_000;
    if (this.buffer.length > max) {
      const excess = this.buffer.length - max;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
    if (this.buffer.length >= (this.opts.batch ?? 1000) && this.inFlight === undefined) {
      this.inFlight = this.flush()
        .catch((err: unknown) => this.opts.onError?.(err as Error))
        .finally(() => (this.inFlight = undefined));
    }
  }

  /** Writes everything buffered; on failure the points stay buffered and the error is thrown. */
  async flush(): Promise<void> {
    await this.inFlight;
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    try {
      await this.influx.writePoints(
        batch.map((s) => ({
          measurement: SCORE_MEASUREMENT,
          tags: { model: s.model, key: s.key },
          fields: { score: s.score, raw: s.raw, version: s.version, fired: s.fired, event_id: s.eventId },
          timestamp: s.ts,
        })),
        { precision: "ms" },
      );
    } catch (err) {
      this.buffer = [...batch, ...this.buffer];
      throw err;
    }
  }
}
