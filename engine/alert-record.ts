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
