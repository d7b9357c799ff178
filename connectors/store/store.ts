/**
 * The incident store over a {@link Database}: the same SQL on PostgreSQL and on PGlite.
 *
 * Alerts are written in one transaction per batch, idempotently: an alert already stored
 * is not written again (its suppressed count only grows), and a new alert joins the open
 * incident of its rule and key whose alerts fired within the group window of it, or opens
 * an incident whose id is derived from (rule, key, first alert id) — so a replay or a
 * redelivery lands in the same incidents. Every write made on behalf of a person or a
 * responder appends its audit entry in the same transaction.
 */
import { randomUUID } from "node:crypto";
import { SEVERITIES, type Severity } from "../../dsl/index.js";
import type { Alert } from "../../engine/index.js";
import type {
  ActionLedger,
  Actor,
  AlertFilter,
  ApiKeyStore,
  AuditLog,
  Comment,
  Incident,
  IncidentDetail,
  IncidentFilter,
  IncidentState,
  IncidentStore,
  IncidentStoreOptions,
  KpiQuery,
  Kpis,
  Page,
  Result,
  StoredAlert,
  Transition,
} from "./types.js";
import { OPEN_STATES } from "./types.js";
import type { Database, Queryable, Row } from "./db.js";
import { appendAudit, appendAuditMany, clampLimit, SqlAuditLog } from "./audit.js";
import { SqlActionLedger } from "./actions.js";
import { SqlApiKeyStore } from "./api-keys.js";
import { canonicalJson, hashId } from "./canonical.js";
import { err, ok, StoreInputError } from "./errors.js";
import { computeKpis } from "./kpis.js";
import { migrate } from "./migrations.js";
import { maskValue } from "../../engine/mask.js";
import { arr, iso, isoOrNull, num, obj, strOrNull } from "./rows.js";

export const DEFAULT_GROUP_WINDOW_MS = 3_600_000;
const ENGINE: Actor = { kind: "system", id: "engine" };
const ORDER: readonly IncidentState[] = ["new", "acknowledged", "contained", "resolved"];
const STATES: readonly IncidentState[] = [...ORDER, "false_positive"];
const MAX_COMMENT = 10_000;

/** The key string incidents group by: canonical JSON of the by-key values. */
export function keyString(keys: Readonly<Record<string, unknown>>): string {
  return canonicalJson(keys);
}

/** Deterministic incident id from rule, key and the id of the alert that opened it. */
export function incidentId(rule: string, keys: Readonly<Record<string, unknown>>, firstAlertId: string): string {
  return hashId(["incident", rule, keyString(keys), firstAlertId]);
}

function groupKey(rule: string, keys: Readonly<Record<string, unknown>>): string {
  return hashId(["group", rule, keyString(keys)]);
}

function serviceOf(fields: Readonly<Record<string, unknown>>): string | null {
  const flat = fields["service.name"];
  if (typeof flat === "string" && flat !== "") return flat;
  const nested = fields.service;
  if (typeof nested === "object" && nested !== null) {
    const name = (nested as Record<string, unknown>).name;
    if (typeof name === "string" && name !== "") return name;
  }
  return null;
}

const rank = (s: string): number => SEVERITIES.indexOf(s as Severity);

const INCIDENT_COLUMNS =
  "id, rule, title, severity, state, keys, service, assignee, alert_count, first_event_at, detected_at, acknowledged_at, contained_at, resolved_at, closed_at, updated_at";
const ALERT_COLUMNS =
  "id, incident_id, rule, rule_version, severity, keys, count, first_event_at, last_event_at, fired_at, detected_at, suppressed, evidence, actions";

function toIncident(r: Row): Incident {
  return {
    id: String(r.id),
    rule: String(r.rule),
    title: String(r.title),
    severity: r.severity as Severity,
    state: r.state as IncidentState,
    keys: obj(r.keys),
    service: strOrNull(r.service),
    assignee: strOrNull(r.assignee),
    alert_count: num(r.alert_count),
    first_event_at: iso(r.first_event_at),
    detected_at: iso(r.detected_at),
    acknowledged_at: isoOrNull(r.acknowledged_at),
    contained_at: isoOrNull(r.contained_at),
    resolved_at: isoOrNull(r.resolved_at),
    closed_at: isoOrNull(r.closed_at),
    updated_at: iso(r.updated_at),
  };
}

function toStoredAlert(r: Row): StoredAlert {
  return {
    id: String(r.id),
    incident_id: String(r.incident_id),
    rule: String(r.rule),
    rule_version: String(r.rule_version),
    severity: r.severity as Severity,
    keys: obj(r.keys),
    count: num(r.count),
    first_event_at: iso(r.first_event_at),
    last_event_at: iso(r.last_event_at),
    fired_at: iso(r.fired_at),
    detected_at: iso(r.detected_at),
    suppressed: num(r.suppressed),
    evidence: obj(r.evidence) as unknown as StoredAlert["evidence"],
    actions: arr(r.actions),
  };
}

const actorOf = (r: Row): Actor => ({ kind: r.actor_kind as Actor["kind"], id: String(r.actor_id) });

/** Opaque keyset cursor over (detected_at, id), newest first. */
function encodeCursor(detectedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([detectedAt, id])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string" && !Number.isNaN(Date.parse(v[0]))) return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new StoreInputError("E_INVALID", "the cursor is not one this store returned: start again without a cursor");
}

function checkTime(name: string, v: string | undefined): void {
  if (v !== undefined && Number.isNaN(Date.parse(v))) throw new StoreInputError("E_INVALID", `${name} must be an ISO 8601 time, got ${JSON.stringify(v)}`);
}

/** A WHERE clause under construction: conditions joined by AND, with numbered parameters. */
class Where {
  readonly params: (string | number | readonly string[] | null)[] = [];
  private readonly parts: string[] = [];
  p(v: string | number | readonly string[] | null): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
  and(cond: string): void {
    this.parts.push(cond);
  }
  toString(): string {
    return this.parts.length === 0 ? "" : `WHERE ${this.parts.join(" AND ")}`;
  }
}

interface OpenIncident {
  id: string;
  group: string;
  firstFired: number;
  lastFired: number;
  severity: Severity;
  isNew: boolean;
}

export class SqlIncidentStore implements IncidentStore {
  readonly name = "incidents";
  readonly audit: AuditLog;
  readonly actions: ActionLedger;
  readonly apiKeys: ApiKeyStore;
  private readonly groupWindowMs: number;
  private readonly now: () => Date;

  constructor(
    readonly db: Database,
    options: IncidentStoreOptions & { now?: () => Date } = {},
  ) {
    this.groupWindowMs = options.groupWindowMs ?? DEFAULT_GROUP_WINDOW_MS;
    if (!Number.isFinite(this.groupWindowMs) || this.groupWindowMs < 0) throw new RangeError(`groupWindowMs must be ≥ 0, got ${this.groupWindowMs}`);
    this.now = options.now ?? (() => new Date());
    this.audit = new SqlAuditLog(db, this.now);
    this.actions = new SqlActionLedger(db, this.now);
    this.apiKeys = new SqlApiKeyStore(db, this.now);
  }

  async migrate(): Promise<void> {
    await migrate(this.db);
  }

  // ------------------------------------------------------------------ alerts in

  async write(alerts: readonly Alert[], updates: readonly Alert[]): Promise<void> {
    // An update is the alert again: written if it is somehow missing, its count raised.
    const byId = new Map<string, Alert>();
    for (const a of [...alerts, ...updates]) {
      const seen = byId.get(a.id);
      if (seen === undefined || a.suppressed > seen.suppressed) byId.set(a.id, a);
    }
    if (byId.size === 0) return;
    await this.db.transaction((tx) => this.writeIn(tx, [...byId.values()]));
  }

  private async writeIn(tx: Queryable, all: Alert[]): Promise<void> {
    const existing = await tx.query<{ id: string }>("SELECT id FROM alerts WHERE id = ANY($1::text[])", [all.map((a) => a.id)]);
    const stored = new Set(existing.map((r) => r.id));
    const fresh = all
      .filter((a) => !stored.has(a.id))
      .sort((a, b) => Date.parse(a.fired_at) - Date.parse(b.fired_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

    if (fresh.length > 0) await this.insertFresh(tx, fresh);

    const raised = all.filter((a) => stored.has(a.id)).map((a) => ({ id: a.id, suppressed: a.suppressed }));
    if (raised.length > 0) {
      await tx.query(
        `UPDATE alerts a SET suppressed = x.suppressed
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, suppressed integer)
         WHERE a.id = x.id AND a.suppressed < x.suppressed`,
        [JSON.stringify(raised)],
      );
    }
  }

  private async insertFresh(tx: Queryable, fresh: Alert[]): Promise<void> {
    const groups = [...new Set(fresh.map((a) => groupKey(a.rule, a.keys)))].sort();
    // Writers of the same rule and key queue here (in one order: no deadlock), so two
    // instances writing at once still open one incident, not two.
    await tx.query("SELECT count(pg_advisory_xact_lock(hashtextextended(g, 0))) FROM unnest($1::text[]) AS g", [groups]);
    const rows = await tx.query(
      `SELECT id, group_key, severity, first_fired_at, last_fired_at FROM incidents
       WHERE group_key = ANY($1::text[]) AND state IN ('new', 'acknowledged', 'contained')
       ORDER BY last_fired_at, id FOR UPDATE`,
      [groups],
    );
    const open = new Map<string, OpenIncident[]>();
    for (const r of rows) {
      const g = String(r.group_key);
      const list = open.get(g) ?? [];
      list.push({ id: String(r.id), group: g, firstFired: Date.parse(iso(r.first_fired_at)), lastFired: Date.parse(iso(r.last_fired_at)), severity: r.severity as Severity, isNew: false });
      open.set(g, list);
    }

    const now = this.now().toISOString();
    const newIncidents: Record<string, unknown>[] = [];
    const alertRows: Record<string, unknown>[] = [];
    const touched = new Map<string, Severity>();
    for (const a of fresh) {
      const g = groupKey(a.rule, a.keys);
      const t = Date.parse(a.fired_at);
      const list = open.get(g) ?? [];
      open.set(g, list);
      let target: OpenIncident | undefined;
      for (const inc of list) {
        if (t >= inc.firstFired - this.groupWindowMs && t <= inc.lastFired + this.groupWindowMs && (target === undefined || inc.lastFired > target.lastFired)) target = inc;
      }
      if (target === undefined) {
        target = { id: incidentId(a.rule, a.keys, a.id), group: g, firstFired: t, lastFired: t, severity: a.severity, isNew: true };
        list.push(target);
        newIncidents.push({
          id: target.id,
          rule: a.rule,
          group_key: g,
          title: a.title,
          severity: a.severity,
          keys: maskValue(a.keys),
          service: serviceOf(a.keys),
          first_event_at: a.first_event_at,
          first_fired_at: a.fired_at,
          last_fired_at: a.fired_at,
          detected_at: a.detected_at,
          updated_at: now,
        });
      } else {
        target.firstFired = Math.min(target.firstFired, t);
        target.lastFired = Math.max(target.lastFired, t);
      }
      const sev = touched.get(target.id);
      touched.set(target.id, sev === undefined || rank(a.severity) > rank(sev) ? a.severity : sev);
      alertRows.push({
        id: a.id,
        incident_id: target.id,
        rule: a.rule,
        rule_version: a.rule_version,
        title: a.title,
        severity: a.severity,
        risk: a.risk ?? null,
        tags: a.tags,
        keys: maskValue(a.keys),
        count: a.count,
        value: a.value ?? null,
        first_event_at: a.first_event_at,
        last_event_at: a.last_event_at,
        fired_at: a.fired_at,
        detected_at: a.detected_at,
        suppressed: a.suppressed,
        evidence: a.evidence,
        actions: maskValue(a.actions),
      });
    }

    if (newIncidents.length > 0) {
      await tx.query(
        `INSERT INTO incidents (id, rule, group_key, title, severity, state, keys, service, first_event_at, first_fired_at, last_fired_at, detected_at, updated_at)
         SELECT id, rule, group_key, title, severity, 'new', keys, service, first_event_at, first_fired_at, last_fired_at, detected_at, updated_at
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, rule text, group_key text, title text, severity text, keys jsonb, service text,
           first_event_at timestamptz, first_fired_at timestamptz, last_fired_at timestamptz, detected_at timestamptz, updated_at timestamptz)
         ON CONFLICT (id) DO NOTHING`,
        [JSON.stringify(newIncidents)],
      );
    }
    await tx.query(
      `INSERT INTO alerts (${ALERT_COLUMNS}, title, risk, tags, value)
       SELECT ${ALERT_COLUMNS}, title, risk, tags, value
       FROM jsonb_to_recordset($1::jsonb) AS x(id text, incident_id text, rule text, rule_version text, title text, severity text,
         risk double precision, tags jsonb, keys jsonb, count integer, value double precision, first_event_at timestamptz,
         last_event_at timestamptz, fired_at timestamptz, detected_at timestamptz, suppressed integer, evidence jsonb, actions jsonb)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(alertRows)],
    );
    // Aggregates recomputed from the incident's alerts (so they are right whatever joined when).
    const severities = [...touched].map(([id, severity]) => ({ id, severity }));
    await tx.query(
      `UPDATE incidents i SET
         alert_count = s.n, first_event_at = s.first_event_at, first_fired_at = s.first_fired_at,
         last_fired_at = s.last_fired_at, detected_at = s.detected_at, updated_at = $2::timestamptz,
         severity = CASE WHEN array_position($3::text[], x.severity) > array_position($3::text[], i.severity) THEN x.severity ELSE i.severity END
       FROM jsonb_to_recordset($1::jsonb) AS x(id text, severity text),
         LATERAL (SELECT count(*)::int AS n, min(first_event_at) AS first_event_at, min(fired_at) AS first_fired_at,
                    max(fired_at) AS last_fired_at, min(detected_at) AS detected_at
                  FROM alerts WHERE incident_id = x.id) s
       WHERE i.id = x.id`,
      [JSON.stringify(severities), now, SEVERITIES],
    );
    await appendAuditMany(
      tx,
      new Date(now),
      ENGINE,
      newIncidents.map((inc) => ({ action: "incident.open", target: String(inc.id), details: { rule: inc.rule, severity: inc.severity, keys: inc.keys } })),
    );
  }

  // ------------------------------------------------------------------ reads

  async listIncidents(filter: IncidentFilter, limit: number, cursor: string | null): Promise<Page<Incident>> {
    checkTime("from", filter.from);
    checkTime("to", filter.to);
    const w = new Where();
    if (filter.state !== undefined) w.and(`state = ANY(${w.p(filter.state)}::text[])`);
    if (filter.severity !== undefined) w.and(`severity = ANY(${w.p(filter.severity)}::text[])`);
    if (filter.rule !== undefined) w.and(`rule = ${w.p(filter.rule)}`);
    if (filter.assignee !== undefined) w.and(`assignee = ${w.p(filter.assignee)}`);
    if (filter.service !== undefined) w.and(`service = ${w.p(filter.service)}`);
    if (filter.from !== undefined) w.and(`detected_at >= ${w.p(filter.from)}::timestamptz`);
    if (filter.to !== undefined) w.and(`detected_at < ${w.p(filter.to)}::timestamptz`);
    return this.page(w, "incidents", INCIDENT_COLUMNS, limit, cursor, toIncident);
  }

  async listAlerts(filter: AlertFilter, limit: number, cursor: string | null): Promise<Page<StoredAlert>> {
    checkTime("from", filter.from);
    checkTime("to", filter.to);
    const w = new Where();
    if (filter.rule !== undefined) w.and(`rule = ${w.p(filter.rule)}`);
    if (filter.severity !== undefined) w.and(`severity = ANY(${w.p(filter.severity)}::text[])`);
    if (filter.incident_id !== undefined) w.and(`incident_id = ${w.p(filter.incident_id)}`);
    if (filter.from !== undefined) w.and(`detected_at >= ${w.p(filter.from)}::timestamptz`);
    if (filter.to !== undefined) w.and(`detected_at < ${w.p(filter.to)}::timestamptz`);
    return this.page(w, "alerts", ALERT_COLUMNS, limit, cursor, toStoredAlert);
  }

  /** Keyset pagination, newest first: rows inserted meanwhile never shift a later page. */
  private async page<T extends { id: string; detected_at: string }>(
    w: Where,
    table: "incidents" | "alerts",
    columns: string,
    limit: number,
    cursor: string | null,
    map: (r: Row) => T,
  ): Promise<Page<T>> {
    const n = clampLimit(limit);
    if (cursor !== null) {
      const [at, id] = decodeCursor(cursor);
      w.and(`(detected_at, id) < (${w.p(at)}::timestamptz, ${w.p(id)})`);
    }
    const rows = await this.db.query(`SELECT ${columns} FROM ${table} ${w.toString()} ORDER BY detected_at DESC, id DESC LIMIT ${w.p(n + 1)}`, w.params);
    const items = rows.slice(0, n).map(map);
    const last = items[items.length - 1];
    return { items, next_cursor: rows.length > n && last !== undefined ? encodeCursor(last.detected_at, last.id) : null };
  }

  async getIncident(id: string): Promise<IncidentDetail | undefined> {
    const [row] = await this.db.query(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1`, [id]);
    if (row === undefined) return undefined;
    const [alerts, events, transitions, comments, actions] = await Promise.all([
      this.db.query(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE incident_id = $1 ORDER BY fired_at, id`, [id]),
      this.db.query("SELECT event_id, at, fields FROM evidence_events WHERE incident_id = $1 ORDER BY at, event_id", [id]),
      this.db.query("SELECT from_state, to_state, at, actor_kind, actor_id, reason FROM incident_transitions WHERE incident_id = $1 ORDER BY id", [id]),
      this.db.query("SELECT id, at, actor_kind, actor_id, text FROM incident_comments WHERE incident_id = $1 ORDER BY at, id", [id]),
      this.actions.list({ incident_id: id }, 1000),
    ]);
    return {
      ...toIncident(row),
      alerts: alerts.map(toStoredAlert),
      events: events.map((e) => ({ id: String(e.event_id), at: iso(e.at), fields: obj(e.fields) })),
      transitions: transitions.map(
        (t): Transition => ({ from: t.from_state as IncidentState, to: t.to_state as IncidentState, at: iso(t.at), actor: actorOf(t), reason: strOrNull(t.reason) }),
      ),
      comments: comments.map((c): Comment => ({ id: String(c.id), at: iso(c.at), actor: actorOf(c), text: String(c.text) })),
      actions: [...actions].reverse(),
    };
  }

  // ------------------------------------------------------------------ lifecycle

  /** Locks the incident, applies `change`, appends the audit entry, all in one transaction. */
  private mutate<T>(id: string, change: (tx: Queryable, current: Incident, at: Date) => Promise<Result<T>>): Promise<Result<T>> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1 FOR UPDATE`, [id]);
      if (row === undefined) return err<T>("E_NOT_FOUND", `no incident ${id}`);
      return change(tx, toIncident(row), this.now());
    });
  }

  transition(id: string, to: IncidentState, actor: Actor, reason: string | null): Promise<Result<Incident>> {
    if (!STATES.includes(to)) return Promise.resolve(err("E_INVALID", `unknown state ${JSON.stringify(to)}: one of ${STATES.join(", ")}`));
    return this.mutate(id, async (tx, cur, at) => {
      const from = cur.state;
      if (!OPEN_STATES.includes(from)) return err<Incident>("E_BAD_TRANSITION", `incident ${id} is closed (${from}); it cannot become ${to}`);
      if (to !== "false_positive" && ORDER.indexOf(to) <= ORDER.indexOf(from)) {
        return err<Incident>("E_BAD_TRANSITION", `incident ${id} is ${from}; it can only move forward (${ORDER.slice(ORDER.indexOf(from) + 1).join(", ")}) or be closed as false_positive`);
      }
      const stamp = { acknowledged: "acknowledged_at", contained: "contained_at", resolved: "resolved_at", false_positive: null, new: null }[to];
      const closes = to === "resolved" || to === "false_positive";
      const [row] = await tx.query(
        `UPDATE incidents SET state = $2, updated_at = $3::timestamptz${stamp === null ? "" : `, ${stamp} = $3::timestamptz`}${closes ? ", closed_at = $3::timestamptz" : ""}
         WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
        [id, to, at.toISOString()],
      );
      await tx.query(
        "INSERT INTO incident_transitions (incident_id, from_state, to_state, at, actor_kind, actor_id, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [id, from, to, at.toISOString(), actor.kind, actor.id, reason],
      );
      await appendAudit(tx, at, actor, "incident.transition", id, { from, to, reason });
      return ok(toIncident(row!));
    });
  }

  assign(id: string, assignee: string | null, actor: Actor): Promise<Result<Incident>> {
    if (assignee !== null && assignee.trim() === "") return Promise.resolve(err("E_INVALID", "assignee must be a non-empty name, or null to unassign"));
    return this.mutate(id, async (tx, cur, at) => {
      const [row] = await tx.query(`UPDATE incidents SET assignee = $2, updated_at = $3 WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`, [id, assignee, at.toISOString()]);
      await appendAudit(tx, at, actor, "incident.assign", id, { from: cur.assignee, to: assignee });
      return ok(toIncident(row!));
    });
  }

  setSeverity(id: string, severity: Severity, actor: Actor): Promise<Result<Incident>> {
    if (!SEVERITIES.includes(severity)) return Promise.resolve(err("E_INVALID", `unknown severity ${JSON.stringify(severity)}: one of ${SEVERITIES.join(", ")}`));
    return this.mutate(id, async (tx, cur, at) => {
      const [row] = await tx.query(`UPDATE incidents SET severity = $2, updated_at = $3 WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`, [id, severity, at.toISOString()]);
      await appendAudit(tx, at, actor, "incident.severity", id, { from: cur.severity, to: severity });
      return ok(toIncident(row!));
    });
  }

  comment(id: string, text: string, actor: Actor): Promise<Result<Comment>> {
    if (text.trim() === "") return Promise.resolve(err("E_INVALID", "a comment needs some text"));
    if (text.length > MAX_COMMENT) return Promise.resolve(err("E_INVALID", `a comment is at most ${MAX_COMMENT} characters (this one has ${text.length})`));
    return this.mutate(id, async (tx, _cur, at) => {
      const commentId = randomUUID();
      await tx.query("INSERT INTO incident_comments (id, incident_id, at, actor_kind, actor_id, text) VALUES ($1, $2, $3, $4, $5, $6)", [
        commentId,
        id,
        at.toISOString(),
        actor.kind,
        actor.id,
        text,
      ]);
      await tx.query("UPDATE incidents SET updated_at = $2 WHERE id = $1", [id, at.toISOString()]);
      await appendAudit(tx, at, actor, "incident.comment", id, { comment_id: commentId, text });
      return ok({ id: commentId, at: at.toISOString(), actor, text });
    });
  }

  // ------------------------------------------------------------------ evidence, rules, coverage

  async attachEvents(alertId: string, events: readonly { id: string; at: string; fields: Readonly<Record<string, unknown>> }[]): Promise<void> {
    if (events.length === 0) return;
    for (const e of events) checkTime("event time", e.at);
    await this.db.transaction(async (tx) => {
      const [alert] = await tx.query<{ incident_id: string }>("SELECT incident_id FROM alerts WHERE id = $1", [alertId]);
      if (alert === undefined) throw new StoreInputError("E_NOT_FOUND", `no alert ${alertId}: write the alert before attaching its events`);
      await tx.query(
        `INSERT INTO evidence_events (incident_id, event_id, alert_id, at, fields)
         SELECT $1, id, $2, at, fields FROM jsonb_to_recordset($3::jsonb) AS x(id text, at timestamptz, fields jsonb)
         ON CONFLICT (incident_id, event_id) DO NOTHING`,
        [alert.incident_id, alertId, JSON.stringify(events)],
      );
      const service = events.map((e) => serviceOf(e.fields)).find((s) => s !== null);
      if (service !== undefined) await tx.query("UPDATE incidents SET service = $2 WHERE id = $1 AND service IS NULL", [alert.incident_id, service]);
    });
  }

  async recordRuleVersion(rule: string, version: string, source: string): Promise<void> {
    await this.db.query("INSERT INTO rule_versions (rule, version, source, recorded_at) VALUES ($1, $2, $3, $4) ON CONFLICT (rule, version) DO NOTHING", [
      rule,
      version,
      source,
      this.now().toISOString(),
    ]);
  }

  /** The incident an alert joined, once the alert is stored (responders link actions with it). */
  async alertIncident(alertId: string): Promise<string | undefined> {
    const [row] = await this.db.query<{ incident_id: string }>("SELECT incident_id FROM alerts WHERE id = $1", [alertId]);
    return row?.incident_id;
  }

  /** The source of a rule version recorded by {@link recordRuleVersion}. */
  async ruleVersion(rule: string, version: string): Promise<string | undefined> {
    const [row] = await this.db.query<{ source: string }>("SELECT source FROM rule_versions WHERE rule = $1 AND version = $2", [rule, version]);
    return row?.source;
  }

  async recordServicesSeen(seen: ReadonlyMap<string, string>): Promise<void> {
    if (seen.size === 0) return;
    const rows = [...seen].map(([service, at]) => {
      checkTime(`time seen of ${service}`, at);
      return { service, at };
    });
    await this.db.query(
      `INSERT INTO services_seen (service, last_seen_at)
       SELECT service, at FROM jsonb_to_recordset($1::jsonb) AS x(service text, at timestamptz)
       ON CONFLICT (service) DO UPDATE SET last_seen_at = GREATEST(services_seen.last_seen_at, EXCLUDED.last_seen_at)`,
      [JSON.stringify(rows)],
    );
  }

  async setExpectedServices(services: readonly string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query("DELETE FROM expected_services");
      if (services.length > 0) await tx.query("INSERT INTO expected_services (service) SELECT DISTINCT unnest($1::text[])", [services]);
    });
  }

  kpis(q: KpiQuery & { coverageWindowMinutes?: number; now?: Date }): Promise<Kpis> {
    checkTime("from", q.from);
    checkTime("to", q.to);
    return computeKpis(this.db, { ...q, now: q.now ?? this.now() });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
