/**
 * Evidence collection: the events that made a rule fire, and the rule's text at the version
 * that fired, frozen on the incident. The pipeline shows the recorder every event it feeds
 * the engine (`observe`); it keeps the most recent ones by id (bounded), and when an alert is
 * written it attaches the alert's evidence events and records the rule version in the store.
 * Place it after the incident store among the sinks (the alert must exist first).
 */
import { type PackFile, SourceFile, parseFile, printDecl } from "../../dsl/index.js";
import type { Alert } from "../../engine/alert.js";
import type { EngineEvent, EventFields } from "../../engine/event.js";
import type { AlertSink } from "../../engine/pipeline.js";
import type { IncidentStore } from "../store/types.js";

export interface EvidenceOptions {
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
      if (events.length > 0) await this.store.attachEvents(a.id, events);
      const key = `${a.rule}\0${a.rule_version}`;
      if (!this.recorded.has(key)) {
        const source = this.opts.ruleSource?.(a.rule);
        if (source !== undefined) await this.store.recordRuleVersion(a.rule, a.rule_version, source);
        this.recorded.add(key);
      }
    }
  }
}
