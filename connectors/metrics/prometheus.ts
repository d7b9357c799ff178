import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Alert } from "../../engine/index.js";
import type { DeadLetter } from "../../engine/pipeline.js";
import type { WorkerObserver } from "../../engine/worker.js";

/** The main job's Prometheus metrics (served at `/metrics`), fed by the worker loop. */
export class PipelineMetrics implements WorkerObserver {
  readonly registry: Registry;
  private readonly eventsTotal: Counter;
  private readonly deadTotal: Counter<"reason">;
  private readonly ingestRejectedTotal: Counter<"reason">;
  private readonly alertsTotal: Counter<"rule" | "severity">;
  private readonly batchSeconds: Histogram;
  private readonly checkpointSeconds: Histogram;
  private readonly position: Gauge;
  private readonly lastEventTime: Gauge;
  readonly lateEvents: Gauge;

  constructor(registry: Registry = new Registry(), o: { defaultMetrics?: boolean } = {}) {
    this.registry = registry;
    if (o.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "vigil_" });
    this.eventsTotal = new Counter({ name: "vigil_events_total", help: "Events evaluated", registers: [registry] });
    this.deadTotal = new Counter({ name: "vigil_dead_letters_total", help: "Messages, lines or events sent to the dead letters, by reason", labelNames: ["reason"], registers: [registry] });
    this.ingestRejectedTotal = new Counter({ name: "vigil_ingest_rejected_total", help: "Lines or events of HTTP ingest requests refused (and listed in the answer), by reason", labelNames: ["reason"], registers: [registry] });
    this.alertsTotal = new Counter({ name: "vigil_alerts_total", help: "Alerts raised, by rule and severity", labelNames: ["rule", "severity"], registers: [registry] });
    this.batchSeconds = new Histogram({ name: "vigil_batch_seconds", help: "Time to evaluate a batch and make its effects durable", buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });
    this.checkpointSeconds = new Histogram({ name: "vigil_checkpoint_seconds", help: "Time to save a checkpoint and acknowledge", buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] });
    this.position = new Gauge({ name: "vigil_source_position", help: "Last source position whose effects are checkpointed", registers: [registry] });
    this.lastEventTime = new Gauge({ name: "vigil_last_event_timestamp_seconds", help: "Event time of the newest event evaluated", registers: [registry] });
    const counts = () => this.engineCounts?.();
    this.lateEvents = new Gauge({
      name: "vigil_late_events",
      help: "Events that arrived behind the watermark (counted, still evaluated)",
      registers: [registry],
      collect() {
        const c = counts();
        if (c !== undefined) this.set(c.late);
      },
    });
  }

  private engineCounts: (() => { readonly late: number }) | undefined;

  /** Reads the engine's own counters (late events) when the metrics are scraped. */
  watchEngine(counts: () => { readonly late: number }): void {
    this.engineCounts = counts;
  }

  /** Counts an HTTP ingest refusal (`reason` is its code: `invalid_json`, `future_timestamp`, …). */
  ingestRejected(reason: string): void {
    this.ingestRejectedTotal.inc({ reason });
  }

  batch(events: number, _dead: number, ms: number): void {
    this.eventsTotal.inc(events);
    this.batchSeconds.observe(ms / 1000);
  }

  events(evs: readonly { ts: number }[]): void {
    const last = evs[evs.length - 1];
    if (last !== undefined) this.lastEventTime.set(last.ts / 1000);
  }

  alerts(alerts: readonly Alert[]): void {
    for (const a of alerts) this.alertsTotal.inc({ rule: a.rule, severity: a.severity });
  }

  deadLetters(items: readonly DeadLetter[]): void {
    for (const d of items) this.deadTotal.inc({ reason: d.reason });
  }

  checkpoint(position: number, ms: number): void {
    this.position.set(position);
    this.checkpointSeconds.observe(ms / 1000);
  }
}
