/**
 * Evidence collection: the events that made a rule fire, and the rule's text at the version
 * that fired, frozen on the incident. The pipeline shows the recorder every event it feeds
 * the engine (`observe`); it keeps the most recent ones by id (bounded), and when an alert is
 * written it attaches the alert's evidence events and records the rule version in the store.
 * Place it after the incident store among the sinks. Behind a buffered store sink the alert
 * may not be written yet: a failed attachment is retried in the background (it never fails
 * or holds up the pipeline).
 */
import { type PackFile, SourceFile, parseFile, printDecl } from "../../dsl/index.js";
import { maskValue } from "../../engine/mask.js";
import type { Alert } from "../../engine/alert.js";
import type { EngineEvent, EventFields } from "../../engine/event.js";
import type { AlertSink } from "../../engine/pipeline.js";
import type { IncidentStore } from "../store/types.js";

export interface EvidenceOptions {
  /** Retry of an attachment that failed (the alert not written yet behind a buffered store sink, a database outage). Default 1 s, 120 tries. */
  readonly retryMs?: number;
  readonly maxTries?: number;
  readonly onError?: (message: string, fields: Record<string, unknown>) => void;
  /** Events kept for evidence (the most recent). Default 100 000. */
  readonly capacity?: number;
  /** A rule's source text, by name. */
  readonly ruleSource?: (rule: string) => string | undefined;
}

interface Kept {
  readonly id: string;
  readonly at: string;
  readonly fields: EventFields;
}

/** The canonical text of each rule of a pack, by name (for `recordRuleVersion`). */
export function ruleSourcesFromPack(files: readonly PackFile[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of files)
    for (const d of parseFile(new SourceFile(f.path, f.text)).decls)
      if (d.kind === "rule") out.set(d.name.name, printDecl(d));
  return out;
}

export class EvidenceRecorder implements AlertSink {
  readonly name = "evidence";
  /** Insertion-ordered, so the first key is the oldest. */
  private readonly events = new Map<string, Kept>();
  private readonly recorded = new Set<string>();
  private readonly capacity: number;
  private pending: { alertId: string; events: Kept[]; tries: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<IncidentStore, "attachEvents" | "recordRuleVersion">,
    private readonly opts: EvidenceOptions = {},
  ) {
    this.capacity = opts.capacity ?? 100_000;
  }

  observe(ev: EngineEvent): void {
    if (this.events.has(ev.id)) this.events.delete(ev.id);
    this.events.set(ev.id, { id: ev.id, at: new Date(ev.ts).toISOString(), fields: ev.fields });
    if (this.events.size > this.capacity) this.events.delete(this.events.keys().next().value!);
  }

  /** How many of an alert's evidence events are still held. */
  held(alert: Alert): number {
    return alert.evidence.event_ids.filter((id) => this.events.has(id)).length;
  }

  async write(alerts: readonly Alert[]): Promise<void> {
    for (const a of alerts) {
      const events = a.evidence.event_ids.flatMap((id) => {
        const e = this.events.get(id);
        return e === undefined ? [] : [e];
      });
      if (events.length > 0) await this.attach(a.id, events, 0);
      const key = `${a.rule}\0${a.rule_version}`;
      if (!this.recorded.has(key)) {
        const source = this.opts.ruleSource?.(a.rule);
        try {
          if (source !== undefined) await this.store.recordRuleVersion(a.rule, a.rule_version, source);
          this.recorded.add(key);
        } catch (err) {
          this.opts.onError?.("could not record the rule version; retried with the next alert", {
            rule: a.rule,
            err: (err as Error).message,
          });
        }
      }
    }
  }

  /** Events still waiting to be attached (their alert not stored yet). */
  get waiting(): number {
    return this.pending.length;
  }

  private async attach(alertId: string, events: Kept[], tries: number): Promise<void> {
    try {
      // Frozen masked: card numbers, national ids and secrets never reach the store.
      await this.store.attachEvents(alertId, events.map((e) => ({ ...e, fields: maskValue(e.fields) })));
    } catch (err) {
      if (tries + 1 >= (this.opts.maxTries ?? 120)) {
        this.opts.onError?.("evidence events not attached: giving up", {
          alert_id: alertId,
          events: events.length,
          err: (err as Error).message,
        });
        return;
      }
      this.pending.push({ alertId, events, tries: tries + 1 });
      if (this.timer === undefined) {
        this.timer = setTimeout(() => void this.retry(), this.opts.retryMs ?? 1_000);
        this.timer.unref();
      }
    }
  }

  /** Retries the attachments that failed (run on a timer; callable by tests and on close). */
  async retry(): Promise<void> {
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    for (const p of batch) await this.attach(p.alertId, p.events, p.tries);
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) await this.retry();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
