import type { Alert } from "./alert.js";

/** The JSON form of an alert, as replay prints it and as it is published. */
export function alertRecord(a: Alert): Record<string, unknown> {
  return {
    id: a.id,
    rule: a.rule,
    title: a.title,
    severity: a.severity,
    ...(a.risk === undefined ? {} : { risk: a.risk }),
    tags: a.tags,
    keys: a.keys,
    count: a.count,
    ...(a.value === undefined ? {} : { value: a.value }),
    first_event_at: a.first_event_at,
    last_event_at: a.last_event_at,
    fired_at: a.fired_at,
    detected_at: a.detected_at,
    suppressed: a.suppressed,
    evidence: a.evidence,
    would_act: a.actions,
    rule_version: a.rule_version,
  };
}

/** An alert back from its JSON form (as published on `security.alerts.<severity>`); undefined when it is not one. */
export function alertFromRecord(r: unknown): Alert | undefined {
  if (r === null || typeof r !== "object") return undefined;
  const o = r as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === "string" ? o[k] : undefined);
  const id = str("id");
  const rule = str("rule");
  const severity = str("severity");
  const fired = str("fired_at");
  if (id === undefined || rule === undefined || severity === undefined || fired === undefined) return undefined;
  const ev = (o.evidence ?? {}) as Partial<Alert["evidence"]>;
  return {
    id,
    rule,
    rule_version: str("rule_version") ?? "",
    title: str("title") ?? rule,
    severity: severity as Alert["severity"],
    risk: typeof o.risk === "number" ? o.risk : undefined,
    tags: Array.isArray(o.tags) ? (o.tags as string[]) : [],
    keys: (o.keys ?? {}) as Record<string, unknown>,
    count: typeof o.count === "number" ? o.count : 0,
    value: typeof o.value === "number" ? o.value : undefined,
    first_event_at: str("first_event_at") ?? fired,
    last_event_at: str("last_event_at") ?? fired,
    fired_at: fired,
    detected_at: str("detected_at") ?? fired,
    evidence: { event_ids: ev.event_ids ?? [], origins: ev.origins ?? [], truncated: ev.truncated ?? 0 },
    suppressed: typeof o.suppressed === "number" ? o.suppressed : 0,
    actions: Array.isArray(o.would_act) ? (o.would_act as Alert["actions"]) : [],
  };
}
