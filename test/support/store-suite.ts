/**
 * The incident store's tests, run against PostgreSQL (connectors/store/store.pg.test.ts)
 * and against PGlite (connectors/store/store.pglite.test.ts): one suite, two databases.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { alertId, type Alert } from "../../engine/index.js";
import type { Database } from "../../connectors/store/db.js";
import { migrate, MIGRATIONS, SCHEMA_VERSION } from "../../connectors/store/migrations.js";
import { SqlIncidentStore, incidentId, DEFAULT_GROUP_WINDOW_MS } from "../../connectors/store/store.js";
import { StoreInputError } from "../../connectors/store/errors.js";
import { actionId } from "../../connectors/store/actions.js";
import { startAuditRetention } from "../../connectors/store/retention.js";
import type { Actor, Incident, Result } from "../../connectors/store/types.js";

export interface StoreTarget {
  /** A migrated database shared by the suite's tests (they truncate it between them). */
  readonly db: Database;
  /** A database of its own, empty and not migrated. */
  fresh(): Promise<{ db: Database; drop: () => Promise<void> }>;
  close(): Promise<void>;
}

export class TestClock {
  private t: number | undefined;
  now = (): Date => new Date(this.t ?? Date.now());
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
  advance(ms: number): void {
    this.t = (this.t ?? Date.now()) + ms;
  }
  real(): void {
    this.t = undefined;
  }
}

const T0 = "2026-03-01T10:00:00.000Z";
const at = (base: string, ms: number): string => new Date(Date.parse(base) + ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const ANALYST: Actor = { kind: "user", id: "alice" };
/** Tests that make many round trips: the machine is shared, so they get room. */
const SLOW = { timeout: 180_000 };

let serial = 0;
export function makeAlert(o: Partial<Alert> = {}): Alert {
  const fired = o.fired_at ?? T0;
  const rule = o.rule ?? "ssh_bruteforce";
  const keys = o.keys ?? { "source.address": "203.0.113.7" };
  return {
    id: o.id ?? alertId(rule, JSON.stringify(keys), `ev-${++serial}`),
    rule,
    rule_version: "a1b2c3",
    title: `${rule} from ${JSON.stringify(keys)}`,
    severity: "high",
    risk: undefined,
    tags: ["attack.credential_access"],
    keys,
    count: 5,
    value: undefined,
    first_event_at: fired,
    last_event_at: fired,
    fired_at: fired,
    detected_at: fired,
    evidence: { event_ids: ["e1", "e2"], origins: ["auth.log:1", "auth.log:2"], truncated: 0 },
    suppressed: 0,
    actions: [],
    ...o,
  };
}

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

const TABLES = [
  "evidence_events",
  "incident_transitions",
  "incident_comments",
  "alerts",
  "incidents",
  "rule_versions",
  "audit_log",
  "response_actions",
  "api_keys",
  "services_seen",
  "expected_services",
];

async function reset(db: Database): Promise<void> {
  await db.exec(`TRUNCATE ${TABLES.join(", ")}`);
  await db.query("UPDATE audit_head SET last_seq = 0, last_hash = $1, anchor_seq = 0, anchor_hash = $1 WHERE id = 1", ["0".repeat(64)]);
}

/** Runs `sql` on the audit log with its append-only trigger off (a tamperer with superuser rights). */
async function tamper(db: Database, sql: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only");
    await tx.exec(sql);
    await tx.exec("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only");
  });
}

async function counts(db: Database): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) {
    const [r] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`);
    out[t] = Number(r?.n);
  }
  return out;
}

export function storeSuite(label: string, openTarget: () => Promise<StoreTarget>): void {
  describe(`incident store on ${label}`, () => {
    let target: StoreTarget;
    let store: SqlIncidentStore;
    const clock = new TestClock();

    beforeAll(async () => {
      target = await openTarget();
      store = new SqlIncidentStore(target.db, { now: clock.now });
    });
    afterAll(async () => {
      await target?.close();
    });
    beforeEach(async () => {
      clock.real();
      await reset(target.db);
    });

    // ------------------------------------------------------------ migrations

    describe("migrations", () => {
      it("create the schema on a fresh database, and a re-run is a no-op", SLOW, async () => {
        const { db, drop } = await target.fresh();
        try {
          expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
          const rows = await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
          expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
          const tables = await db.query<{ table_name: string }>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
          );
          expect(tables.map((t) => t.table_name)).toEqual(
            [...TABLES, "audit_head", "schema_migrations"].sort(),
          );
          expect(await migrate(db)).toEqual([]);
          expect(await db.query("SELECT version FROM schema_migrations")).toHaveLength(MIGRATIONS.length);
        } finally {
          await drop();
        }
      });

      it("upgrade a database of the previous version, keeping its data", SLOW, async () => {
        const { db, drop } = await target.fresh();
        try {
          expect(await migrate(db, SCHEMA_VERSION - 1)).toEqual(MIGRATIONS.slice(0, -1).map((m) => m.version));
          const old = new SqlIncidentStore(db);
          await old.write([makeAlert({ id: "before-upgrade" })], []);
          await old.audit.append(ANALYST, "test.before", "x", {});
          expect(await migrate(db)).toEqual([SCHEMA_VERSION]);
          const page = await old.listIncidents({}, 10, null);
          expect(page.items).toHaveLength(1);
          expect(page.items[0]?.alert_count).toBe(1);
          // The new version's tables work on the upgraded database.
          expect(await old.actions.list({}, 10)).toEqual([]);
          expect((await old.audit.verify()).ok).toBe(true);
        } finally {
          await drop();
        }
      });

      it("apply each migration once when two instances start together", SLOW, async () => {
        const { db, drop } = await target.fresh();
        try {
          const [a, b] = await Promise.all([migrate(db), migrate(db)]);
          expect([...(a ?? []), ...(b ?? [])].sort()).toEqual(MIGRATIONS.map((m) => m.version));
        } finally {
          await drop();
        }
      });

      it("refuse a database whose schema is newer than this code", async () => {
        await target.db.query("INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", [SCHEMA_VERSION + 1]);
        try {
          await expect(migrate(target.db)).rejects.toThrow(/newer than this Vigil/);
        } finally {
          await target.db.query("DELETE FROM schema_migrations WHERE version = $1", [SCHEMA_VERSION + 1]);
        }
      });
    });

    // ------------------------------------------------------------ alerts and grouping

    describe("writing alerts", () => {
      it("opens an incident with a deterministic id and the alert's times", async () => {
        const a = makeAlert({ first_event_at: at(T0, -5 * MIN), fired_at: T0, detected_at: at(T0, 2000), keys: { "source.address": "198.51.100.1", "service.name": "auth" } });
        await store.write([a], []);
        const page = await store.listIncidents({}, 10, null);
        expect(page.items).toHaveLength(1);
        const inc = page.items[0]!;
        expect(inc.id).toBe(incidentId(a.rule, a.keys, a.id));
        expect(inc).toMatchObject({
          rule: a.rule,
          title: a.title,
          severity: "high",
          state: "new",
          keys: a.keys,
          service: "auth",
          assignee: null,
          alert_count: 1,
          first_event_at: at(T0, -5 * MIN),
          detected_at: at(T0, 2000),
          acknowledged_at: null,
          contained_at: null,
          resolved_at: null,
          closed_at: null,
        });
        const detail = await store.getIncident(inc.id);
        expect(detail?.alerts.map((x) => x.id)).toEqual([a.id]);
        expect(detail?.alerts[0]).toMatchObject({ rule_version: "a1b2c3", count: 5, suppressed: 0, evidence: a.evidence, actions: [] });
        expect(await store.alertIncident(a.id)).toBe(inc.id);
        expect(await store.alertIncident("unknown")).toBeUndefined();
      });

      it("masks card numbers and secrets in the keys and action arguments it stores, and groups by the real keys", async () => {
        const card = "4111 1111 1111 1111";
        const keys = { "payload.outbound": card, "service.name": "payments" };
        const actions = [{ action: "notify", mode: "enforce" as const, args: { channel: "privacy", text: `leak: ${card}, password=hunter2hunter2` } }];
        const a = makeAlert({ rule: "dlp_card_number", keys, actions });
        const b = makeAlert({ rule: "dlp_card_number", keys: { ...keys, "payload.outbound": "5500 0000 0000 0004" }, actions: [] });
        await store.write([a, b], []);
        const page = await store.listIncidents({}, 10, null);
        // Two cards, two incidents: the ids and grouping come from the unmasked keys.
        expect(page.items).toHaveLength(2);
        const inc = page.items.find((i) => i.id === incidentId(a.rule, a.keys, a.id));
        expect(inc?.keys).toEqual({ "payload.outbound": "**** **** **** 1111", "service.name": "payments" });
        const detail = await store.getIncident(inc?.id ?? "");
        expect(detail?.alerts[0]?.keys).toEqual(inc?.keys);
        expect(JSON.stringify(detail?.alerts[0]?.actions)).not.toMatch(/4111 1111|hunter2/);
        expect(detail?.alerts[0]?.actions).toMatchObject([{ action: "notify", args: { channel: "privacy", text: "leak: **** **** **** 1111, password=[masked]" } }]);
      });

      it("is idempotent: writing the same alerts again changes nothing", async () => {
        const batch = [makeAlert({ fired_at: T0 }), makeAlert({ fired_at: at(T0, 10 * MIN) }), makeAlert({ keys: { "source.address": "192.0.2.9" } })];
        await store.write(batch, []);
        const before = await counts(target.db);
        const incidents = await store.listIncidents({}, 100, null);
        await store.write(batch, []);
        await store.write([batch[1]!], [batch[0]!]);
        expect(await counts(target.db)).toEqual(before);
        const again = await store.listIncidents({}, 100, null);
        expect(again.items.map((i) => ({ ...i, updated_at: "" }))).toEqual(incidents.items.map((i) => ({ ...i, updated_at: "" })));
        expect(before.incidents).toBe(2);
        expect(before.alerts).toBe(3);
      });

      it("joins alerts of the same rule and key within the window, and opens a new incident beyond it", async () => {
        const a1 = makeAlert({ fired_at: T0 });
        const a2 = makeAlert({ fired_at: at(T0, 59 * MIN), severity: "critical" });
        const a3 = makeAlert({ fired_at: at(T0, 59 * MIN + HOUR + 1) });
        const other = makeAlert({ fired_at: at(T0, 1 * MIN), keys: { "source.address": "192.0.2.1" } });
        const otherRule = makeAlert({ fired_at: at(T0, 2 * MIN), rule: "port_scan" });
        await store.write([a1], []);
        await store.write([a2, other, otherRule], []);
        await store.write([a3], []);
        const { items } = await store.listIncidents({}, 100, null);
        const byId = new Map(items.map((i) => [i.id, i]));
        const first = byId.get(incidentId(a1.rule, a1.keys, a1.id));
        expect(first?.alert_count).toBe(2);
        expect(first?.severity).toBe("critical"); // raised by a joining alert
        expect(byId.get(incidentId(a3.rule, a3.keys, a3.id))?.alert_count).toBe(1);
        expect(byId.get(incidentId(other.rule, other.keys, other.id))?.alert_count).toBe(1);
        expect(byId.get(incidentId(otherRule.rule, otherRule.keys, otherRule.id))?.alert_count).toBe(1);
        expect(items).toHaveLength(4);
      });

      it("opens one incident when two writers write alerts of the same rule and key at once", SLOW, async () => {
        const other = new SqlIncidentStore(target.db, { now: clock.now });
        for (let round = 0; round < 5; round++) {
          await reset(target.db);
          const a = makeAlert({ fired_at: at(T0, round * MIN) });
          const b = makeAlert({ fired_at: at(T0, round * MIN + 1000) });
          await Promise.all([store.write([a], []), other.write([b], [])]);
          const { items } = await store.listIncidents({}, 10, null);
          expect(items.map((i) => i.alert_count)).toEqual([2]);
        }
      });

      it("takes the group window from its options", async () => {
        const narrow = new SqlIncidentStore(target.db, { groupWindowMs: 5 * MIN, now: clock.now });
        await narrow.write([makeAlert({ fired_at: T0 }), makeAlert({ fired_at: at(T0, 4 * MIN) }), makeAlert({ fired_at: at(T0, 10 * MIN) })], []);
        const { items } = await narrow.listIncidents({}, 10, null);
        expect(items.map((i) => i.alert_count).sort()).toEqual([1, 2]);
        expect(DEFAULT_GROUP_WINDOW_MS).toBe(HOUR);
      });

      it("does not join a closed incident", async () => {
        const a1 = makeAlert({ fired_at: T0 });
        await store.write([a1], []);
        const id = incidentId(a1.rule, a1.keys, a1.id);
        unwrap(await store.transition(id, "resolved", ANALYST, null));
        const a2 = makeAlert({ fired_at: at(T0, MIN) });
        await store.write([a2], []);
        const { items } = await store.listIncidents({}, 10, null);
        expect(items.map((i) => i.id).sort()).toEqual([id, incidentId(a2.rule, a2.keys, a2.id)].sort());
      });

      it("raises suppressed counts from updates, never lowers them, and writes an update whose alert is missing", async () => {
        const a = makeAlert();
        await store.write([a], []);
        await store.write([], [{ ...a, suppressed: 7 }]);
        await store.write([], [{ ...a, suppressed: 3 }]);
        const missing = makeAlert({ fired_at: at(T0, MIN), suppressed: 2 });
        await store.write([], [missing]);
        const { items } = await store.listAlerts({}, 10, null);
        expect(new Map(items.map((x) => [x.id, x.suppressed]))).toEqual(new Map([[a.id, 7], [missing.id, 2]]));
        expect(items.every((x) => x.incident_id === incidentId(a.rule, a.keys, a.id))).toBe(true);
      });

      it("groups like a reference model, whatever the batching and redelivery (property)", SLOW, async () => {
        const W = 10 * MIN;
        const grouped = new SqlIncidentStore(target.db, { groupWindowMs: W, now: clock.now });
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.record({ key: fc.integer({ min: 0, max: 2 }), gapMin: fc.integer({ min: 0, max: 25 }) }), { minLength: 1, maxLength: 25 }),
            fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 10 }),
            fc.array(fc.nat(), { maxLength: 5 }),
            async (steps, batchSizes, redeliver) => {
              await reset(target.db);
              let t = Date.parse(T0);
              const alerts = steps.map((s, i) => {
                t += s.gapMin * MIN;
                return makeAlert({ id: `p${String(i).padStart(3, "0")}`, fired_at: new Date(t).toISOString(), keys: { "source.address": `10.0.0.${s.key}` } });
              });
              // Reference: per key, in time order, a gap longer than W starts a new incident.
              const expected = new Map<string, string[]>();
              const last = new Map<string, { id: string; t: number }>();
              for (const a of alerts) {
                const k = JSON.stringify(a.keys);
                const prev = last.get(k);
                const ft = Date.parse(a.fired_at);
                const inc = prev !== undefined && ft - prev.t <= W ? prev.id : incidentId(a.rule, a.keys, a.id);
                expected.set(inc, [...(expected.get(inc) ?? []), a.id]);
                last.set(k, { id: inc, t: ft });
              }
              // Delivery: in order, in batches, with earlier batches delivered again.
              const batches: Alert[][] = [];
              for (let i = 0, b = 0; i < alerts.length; b++) {
                const n = batchSizes[b % batchSizes.length]!;
                batches.push(alerts.slice(i, i + n));
                i += n;
              }
              for (let b = 0; b < batches.length; b++) {
                await grouped.write(batches[b]!, []);
                const r = redeliver[b];
                if (r !== undefined) await grouped.write(batches[r % (b + 1)]!, []);
              }
              const rows = await target.db.query<{ id: string; incident_id: string }>("SELECT id, incident_id FROM alerts ORDER BY fired_at, id");
              const actual = new Map<string, string[]>();
              for (const r of rows) actual.set(r.incident_id, [...(actual.get(r.incident_id) ?? []), r.id]);
              expect(actual).toEqual(expected);
              const incidents = await grouped.listIncidents({}, 1000, null);
              expect(new Map(incidents.items.map((i) => [i.id, i.alert_count]))).toEqual(new Map([...expected].map(([id, ids]) => [id, ids.length])));
            },
          ),
          { numRuns: 15 },
        );
      });

      it("freezes evidence events on the incident, once per event, and learns the service from them", async () => {
        const a = makeAlert();
        await store.write([a], []);
        const events = [
          { id: "e2", at: at(T0, -1000), fields: { "service.name": "auth", "user.name": "root" } },
          { id: "e1", at: at(T0, -2000), fields: { message: "first" } },
        ];
        await store.attachEvents(a.id, events);
        await store.attachEvents(a.id, events);
        const detail = await store.getIncident(incidentId(a.rule, a.keys, a.id));
        expect(detail?.events).toEqual([
          { id: "e1", at: at(T0, -2000), fields: { message: "first" } },
          { id: "e2", at: at(T0, -1000), fields: { "service.name": "auth", "user.name": "root" } },
        ]);
        expect(detail?.service).toBe("auth");
        await expect(store.attachEvents("no-such-alert", events)).rejects.toBeInstanceOf(StoreInputError);
      });

      it("records a rule version once", async () => {
        await store.recordRuleVersion("ssh_bruteforce", "a1b2c3", "rule ssh_bruteforce { … }");
        await store.recordRuleVersion("ssh_bruteforce", "a1b2c3", "ignored: already recorded");
        expect(await store.ruleVersion("ssh_bruteforce", "a1b2c3")).toBe("rule ssh_bruteforce { … }");
        expect(await store.ruleVersion("ssh_bruteforce", "other")).toBeUndefined();
      });
    });

    // ------------------------------------------------------------ listing

    describe("listing", () => {
      it("pages newest first with a cursor that is stable under inserts", SLOW, async () => {
        const initial = Array.from({ length: 25 }, (_, i) => makeAlert({ fired_at: at(T0, i * 2 * HOUR), detected_at: at(T0, i * 2 * HOUR), keys: { n: i } }));
        await store.write(initial, []);
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await store.listIncidents({}, 10, cursor);
          seen.push(...page.items.map((i) => i.id));
          cursor = page.next_cursor;
          pages++;
          // Inserts between pages: newer ones (before the cursor) and older ones (after it).
          await store.write([makeAlert({ fired_at: at(T0, 1000 * HOUR + pages), keys: { late: pages } }), makeAlert({ fired_at: at(T0, -HOUR * pages), keys: { early: pages } })], []);
        } while (cursor !== null);
        expect(new Set(seen).size).toBe(seen.length);
        for (const a of initial) expect(seen).toContain(incidentId(a.rule, a.keys, a.id));
        expect(seen.slice(0, 25)).toEqual(initial.map((a) => incidentId(a.rule, a.keys, a.id)).reverse());
        await expect(store.listIncidents({}, 10, "not-a-cursor")).rejects.toMatchObject({ code: "E_INVALID" });
      });

      it("filters incidents by state, severity, rule, assignee, service and detection time", async () => {
        const a = makeAlert({ rule: "r1", severity: "low", keys: { "service.name": "web" }, detected_at: T0 });
        const b = makeAlert({ rule: "r2", severity: "high", keys: { "service.name": "auth" }, detected_at: at(T0, HOUR) });
        const c = makeAlert({ rule: "r2", severity: "critical", keys: { x: 1 }, detected_at: at(T0, 2 * HOUR) });
        await store.write([a, b, c], []);
        const id = (x: Alert): string => incidentId(x.rule, x.keys, x.id);
        unwrap(await store.transition(id(b), "acknowledged", ANALYST, null));
        unwrap(await store.assign(id(c), "bob", ANALYST));
        const ids = async (f: Parameters<SqlIncidentStore["listIncidents"]>[0]): Promise<string[]> => (await store.listIncidents(f, 100, null)).items.map((i) => i.id).sort();
        expect(await ids({ state: ["acknowledged"] })).toEqual([id(b)]);
        expect(await ids({ state: ["new"] })).toEqual([id(a), id(c)].sort());
        expect(await ids({ severity: ["low", "critical"] })).toEqual([id(a), id(c)].sort());
        expect(await ids({ rule: "r2" })).toEqual([id(b), id(c)].sort());
        expect(await ids({ assignee: "bob" })).toEqual([id(c)]);
        expect(await ids({ service: "auth" })).toEqual([id(b)]);
        expect(await ids({ from: at(T0, HOUR), to: at(T0, 2 * HOUR) })).toEqual([id(b)]);
        const alerts = await store.listAlerts({ rule: "r2", severity: ["high"] }, 10, null);
        expect(alerts.items.map((x) => x.id)).toEqual([b.id]);
        expect((await store.listAlerts({ incident_id: id(c) }, 10, null)).items.map((x) => x.id)).toEqual([c.id]);
        await expect(store.listIncidents({ from: "yesterday" }, 10, null)).rejects.toMatchObject({ code: "E_INVALID" });
      });
    });

    // ------------------------------------------------------------ lifecycle

    describe("incident lifecycle", () => {
      async function open(): Promise<string> {
        const a = makeAlert({ fired_at: T0 });
        await store.write([a], []);
        return incidentId(a.rule, a.keys, a.id);
      }

      it("goes new → acknowledged → contained → resolved, each step timestamped, attributed and audited", async () => {
        const id = await open();
        clock.set(at(T0, MIN));
        expect(unwrap(await store.transition(id, "acknowledged", ANALYST, "looking"))).toMatchObject({ state: "acknowledged", acknowledged_at: at(T0, MIN), closed_at: null });
        clock.set(at(T0, 5 * MIN));
        expect(unwrap(await store.transition(id, "contained", { kind: "api_key", id: "key_1" }, null))).toMatchObject({ state: "contained", contained_at: at(T0, 5 * MIN) });
        clock.set(at(T0, 9 * MIN));
        expect(unwrap(await store.transition(id, "resolved", ANALYST, "done"))).toMatchObject({
          state: "resolved",
          acknowledged_at: at(T0, MIN),
          contained_at: at(T0, 5 * MIN),
          resolved_at: at(T0, 9 * MIN),
          closed_at: at(T0, 9 * MIN),
          updated_at: at(T0, 9 * MIN),
        });
        const detail = await store.getIncident(id);
        expect(detail?.transitions).toEqual([
          { from: "new", to: "acknowledged", at: at(T0, MIN), actor: ANALYST, reason: "looking" },
          { from: "acknowledged", to: "contained", at: at(T0, 5 * MIN), actor: { kind: "api_key", id: "key_1" }, reason: null },
          { from: "contained", to: "resolved", at: at(T0, 9 * MIN), actor: ANALYST, reason: "done" },
        ]);
        const audit = (await store.audit.list(0, 100)).filter((e) => e.action === "incident.transition");
        expect(audit.map((e) => [e.target, e.actor, e.details.from, e.details.to, e.at])).toEqual([
          [id, ANALYST, "new", "acknowledged", at(T0, MIN)],
          [id, { kind: "api_key", id: "key_1" }, "acknowledged", "contained", at(T0, 5 * MIN)],
          [id, ANALYST, "contained", "resolved", at(T0, 9 * MIN)],
        ]);
      });

      it("may skip states, and closes as false positive from any open state", async () => {
        const skip = await open();
        expect(unwrap(await store.transition(skip, "resolved", ANALYST, null))).toMatchObject({ state: "resolved", acknowledged_at: null, contained_at: null });
        for (const via of [[], ["acknowledged"], ["acknowledged", "contained"]] as const) {
          await reset(target.db);
          const id = await open();
          for (const s of via) unwrap(await store.transition(id, s, ANALYST, null));
          const closed = unwrap(await store.transition(id, "false_positive", ANALYST, "benign scanner"));
          expect(closed.state).toBe("false_positive");
          expect(closed.closed_at).not.toBeNull();
          expect(closed.resolved_at).toBeNull();
        }
      });

      it("refuses backward, repeated and post-closure transitions, and unknown incidents", async () => {
        const id = await open();
        unwrap(await store.transition(id, "contained", ANALYST, null));
        for (const to of ["new", "acknowledged", "contained"] as const) {
          const r = await store.transition(id, to, ANALYST, null);
          expect(r.ok ? "ok" : r.error.code).toBe("E_BAD_TRANSITION");
        }
        unwrap(await store.transition(id, "false_positive", ANALYST, null));
        for (const to of ["resolved", "false_positive", "acknowledged"] as const) {
          const r = await store.transition(id, to, ANALYST, null);
          expect(r.ok ? "ok" : r.error.code).toBe("E_BAD_TRANSITION");
        }
        const missing = await store.transition("nope", "acknowledged", ANALYST, null);
        expect(missing.ok ? "ok" : missing.error.code).toBe("E_NOT_FOUND");
        const bad = await store.transition(id, "bogus" as never, ANALYST, null);
        expect(bad.ok ? "ok" : bad.error.code).toBe("E_INVALID");
        expect((await store.getIncident(id))?.transitions).toHaveLength(2);
      });

      it("assigns, changes severity and takes comments, each audited", async () => {
        const id = await open();
        expect(unwrap(await store.assign(id, "bob", ANALYST)).assignee).toBe("bob");
        expect(unwrap(await store.setSeverity(id, "low", ANALYST)).severity).toBe("low");
        const c = unwrap(await store.comment(id, "blocked at the edge", ANALYST));
        expect(unwrap(await store.assign(id, null, ANALYST)).assignee).toBeNull();
        const detail = await store.getIncident(id);
        expect(detail?.comments).toEqual([c]);
        expect(detail?.severity).toBe("low");
        const entries = await store.audit.list(0, 100);
        expect(entries.map((e) => [e.action, e.target])).toEqual([
          ["incident.open", id],
          ["incident.assign", id],
          ["incident.severity", id],
          ["incident.comment", id],
          ["incident.assign", id],
        ]);
        expect(entries[2]?.details).toEqual({ from: "high", to: "low" });
        for (const r of [
          await store.comment(id, "   ", ANALYST),
          await store.comment(id, "x".repeat(10_001), ANALYST),
          await store.setSeverity(id, "urgent" as never, ANALYST),
          await store.assign(id, "", ANALYST),
        ]) {
          expect(r.ok ? "ok" : r.error.code).toBe("E_INVALID");
        }
        const r = await store.comment("nope", "hi", ANALYST);
        expect(r.ok ? "ok" : r.error.code).toBe("E_NOT_FOUND");
      });

      it("writes the change and its audit entry in one transaction: no entry, no change", async () => {
        const id = await open();
        await target.db.exec("ALTER TABLE audit_log ADD CONSTRAINT refuse_all CHECK (seq < 0) NOT VALID");
        try {
          await expect(store.transition(id, "acknowledged", ANALYST, null)).rejects.toThrow();
          await expect(store.comment(id, "hi", ANALYST)).rejects.toThrow();
        } finally {
          await target.db.exec("ALTER TABLE audit_log DROP CONSTRAINT refuse_all");
        }
        const detail = await store.getIncident(id);
        expect(detail?.state).toBe("new");
        expect(detail?.transitions).toEqual([]);
        expect(detail?.comments).toEqual([]);
      });
    });

    // ------------------------------------------------------------ audit chain

    describe("audit chain", () => {
      const N = 6;
      async function chain(): Promise<void> {
        for (let i = 1; i <= N; i++) {
          clock.set(at(T0, i * MIN));
          await store.audit.append(ANALYST, "test.step", `t${i}`, { i, nested: { b: [1, 2], a: "x" } });
        }
      }

      it("links each entry to the previous one and verifies", async () => {
        await chain();
        const entries = await store.audit.list(0, 100);
        expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(entries[0]?.prev_hash).toBe("0".repeat(64));
        for (let i = 1; i < N; i++) expect(entries[i]?.prev_hash).toBe(entries[i - 1]?.hash);
        expect(await store.audit.verify()).toEqual({ ok: true, entries: N, anchor: null });
        expect((await store.audit.list(4, 1)).map((e) => e.seq)).toEqual([5]);
      });

      it("refuses UPDATE and DELETE on the log (append-only)", async () => {
        await chain();
        await expect(target.db.query("UPDATE audit_log SET target = 'x' WHERE seq = 1")).rejects.toThrow(/append-only/);
        await expect(target.db.query("DELETE FROM audit_log WHERE seq = 1")).rejects.toThrow(/append-only/);
      });

      for (let k = 1; k <= N; k++) {
        it(`fails at entry ${k} when it is altered, deleted or moved in the database`, SLOW, async () => {
          const cases: [string, string, RegExp, number][] = [
            ["altered details", `UPDATE audit_log SET details = '{"i": 99}' WHERE seq = ${k}`, /changed/, k],
            ["altered actor", `UPDATE audit_log SET actor_id = 'mallory' WHERE seq = ${k}`, /changed/, k],
            ["altered time", `UPDATE audit_log SET at = at + interval '1 second' WHERE seq = ${k}`, /changed/, k],
            ["deleted", `DELETE FROM audit_log WHERE seq = ${k}`, /missing/, k],
          ];
          if (k < N) {
            cases.push([
              "swapped with the next",
              `UPDATE audit_log SET seq = -1 WHERE seq = ${k}; UPDATE audit_log SET seq = ${k} WHERE seq = ${k + 1}; UPDATE audit_log SET seq = ${k + 1} WHERE seq = -1`,
              /reordered/,
              k,
            ]);
          }
          for (const [what, sql, reason, failedAt] of cases) {
            await reset(target.db);
            await chain();
            await tamper(target.db, sql);
            const v = await store.audit.verify();
            expect({ what, ok: v.ok, failed_at: v.failed_at }).toEqual({ what, ok: false, failed_at: failedAt });
            expect(v.reason).toMatch(reason);
          }
        });
      }

      it("does not fork under concurrent appends", SLOW, async () => {
        await Promise.all(Array.from({ length: 40 }, (_, i) => store.audit.append({ kind: "system", id: `w${i % 4}` }, "test.concurrent", `t${i}`, { i })));
        const v = await store.audit.verify();
        expect(v).toEqual({ ok: true, entries: 40, anchor: null });
        const entries = await store.audit.list(0, 100);
        expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect(new Set(entries.map((e) => e.details.i)).size).toBe(40);
      });

      it("prunes the oldest entries under retention, records the anchor, and still verifies and catches deletions", async () => {
        for (let d = 0; d < 10; d++) {
          clock.set(at(T0, d * 24 * HOUR));
          await store.audit.append(ANALYST, "test.day", `d${d}`, { d });
        }
        const before = await store.audit.list(0, 100);
        const now = new Date(at(T0, 9 * 24 * HOUR + HOUR));
        clock.set(now.toISOString());
        // Keeps entries at or after now − 4 days: days 6, 7, 8, 9 (seq 7..10).
        expect(await store.audit.prune(4, now)).toBe(6);
        expect(await store.audit.prune(4, now)).toBe(0);
        const kept = await store.audit.list(0, 100);
        expect(kept.map((e) => e.seq)).toEqual([7, 8, 9, 10, 11]);
        expect(kept[4]).toMatchObject({ action: "audit.prune", details: { removed: 6, anchor_seq: 6, anchor_hash: before[5]!.hash, retention_days: 4 } });
        const v = await store.audit.verify();
        expect(v).toEqual({ ok: true, entries: 5, anchor: before[5]!.hash });
        expect(v.anchor).toBe(kept[0]?.prev_hash);

        await tamper(target.db, "DELETE FROM audit_log WHERE seq = 7");
        expect(await store.audit.verify()).toMatchObject({ ok: false, failed_at: 7, reason: expect.stringMatching(/missing/) as unknown });
      });

      it("prunes on a timer with the configured retention", async () => {
        for (let d = 0; d < 4; d++) {
          clock.set(at(T0, d * 24 * HOUR));
          await store.audit.append(ANALYST, "test.day", `d${d}`, { d });
        }
        const logged: unknown[] = [];
        const timer = startAuditRetention(store.audit, { days: 2, intervalMs: 60_000, now: () => new Date(at(T0, 3 * 24 * HOUR + HOUR)), log: (m, f) => logged.push([m, f]) });
        try {
          expect(await timer.last).toBe(2);
        } finally {
          timer.stop();
        }
        expect(logged).toEqual([["audit entries pruned", { removed: 2, retention_days: 2 }]]);
        expect((await store.audit.list(0, 10)).map((e) => e.details.d ?? e.action)).toEqual([2, 3, "audit.prune"]);
        expect((await store.audit.verify()).ok).toBe(true);
        expect(() => startAuditRetention(store.audit, { days: -1 })).toThrow(RangeError);
      });

      it("catches deleting the newest entries and a deletion in the middle after pruning", async () => {
        await chain();
        await tamper(target.db, `DELETE FROM audit_log WHERE seq = ${N}`);
        expect(await store.audit.verify()).toMatchObject({ ok: false, failed_at: N });
        await reset(target.db);
        await chain();
        clock.set(at(T0, 3 * MIN + 30_000));
        // Retention 0 days at T0+3.5 min: entries 1..3 go.
        expect(await store.audit.prune(0, new Date(at(T0, 3 * MIN + 30_000)))).toBe(3);
        expect((await store.audit.verify()).ok).toBe(true);
        await tamper(target.db, "DELETE FROM audit_log WHERE seq = 5");
        expect(await store.audit.verify()).toMatchObject({ ok: false, failed_at: 5 });
      });
    });

    // ------------------------------------------------------------ KPIs

    describe("KPIs", () => {
      /**
       * Five incidents with known times (S = seconds after T0):
       *   A  rule r1 high   svc web   first event 0,     detected 60 s;  contained +10 min, resolved +60 min
       *   B  rule r1 low    svc auth  first event 3600,  detected +30 s; resolved +20 min (containment skipped)
       *   C  rule r2 high   svc web   first event 7200,  detected +90 s; false positive +5 min
       *   D  rule r2 medium svc web   first event 10800, detected +120 s; still new
       *   E  rule r1 high   svc web   detected a day later (outside the range)
       */
      async function build(): Promise<void> {
        const mk = (rule: string, severity: Alert["severity"], svc: string, firstS: number, detectS: number, n: number): Alert =>
          makeAlert({
            id: `kpi-${rule}-${firstS}`,
            rule,
            severity,
            keys: { "service.name": svc, n },
            first_event_at: at(T0, firstS * 1000),
            last_event_at: at(T0, detectS * 1000),
            fired_at: at(T0, detectS * 1000),
            detected_at: at(T0, detectS * 1000),
          });
        const A = mk("r1", "high", "web", 0, 60, 1);
        const A2 = { ...mk("r1", "high", "web", 100, 200, 1), id: "kpi-A2" };
        const B = mk("r1", "low", "auth", 3600, 3630, 2);
        const C = mk("r2", "high", "web", 7200, 7290, 3);
        const D = mk("r2", "medium", "web", 10800, 10920, 4);
        const E = mk("r1", "high", "web", 86400, 86400 + 5, 5);
        await store.write([A, A2, B, C, D, E], []);
        const id = (x: Alert): string => incidentId(x.rule, x.keys, x.id);
        const step = async (x: Alert, s: number, to: Incident["state"]): Promise<void> => {
          clock.set(at(T0, s * 1000));
          unwrap(await store.transition(id(x), to, ANALYST, null));
        };
        await step(A, 60 + 120, "acknowledged");
        await step(A, 60 + 600, "contained");
        await step(A, 60 + 3600, "resolved");
        await step(B, 3630 + 1200, "resolved");
        await step(C, 7290 + 300, "false_positive");
        await step(E, 86405 + 60, "contained");
      }
      const range = { from: T0, to: at(T0, 12 * HOUR) };

      it("gives exact MTTD, MTTR, false-positive rate and alert volume", async () => {
        await build();
        const k = await store.kpis(range);
        expect(k).toMatchObject({
          incidents: 4,
          alerts: 5,
          mttd_ms: ((60 + 30 + 90 + 120) / 4) * 1000,
          mttd_excluded: 0,
          // A: 600 s to containment; B: 1200 s to resolution, which counts as containment.
          mttr_contain_ms: ((600 + 1200) / 2) * 1000,
          mttr_resolve_ms: ((3600 + 1200) / 2) * 1000,
          false_positive_rate: 1 / 3,
          coverage: null,
        });
      });

      it("MTTD leaves out incidents detected long after they fired (backfilled logs) and counts them", async () => {
        await build();
        // Fired at 4 h of event time, detected at 11 h: a replay of old logs, not a 7-hour detection.
        const old = makeAlert({
          id: "kpi-backfill",
          rule: "r3",
          severity: "high",
          keys: { "service.name": "web", n: 9 },
          first_event_at: at(T0, 4 * HOUR - 60_000),
          last_event_at: at(T0, 4 * HOUR),
          fired_at: at(T0, 4 * HOUR),
          detected_at: at(T0, 11 * HOUR),
        });
        await store.write([old], []);
        expect(await store.kpis(range)).toMatchObject({ incidents: 5, alerts: 6, mttd_ms: ((60 + 30 + 90 + 120) / 4) * 1000, mttd_excluded: 1 });
        expect(await store.kpis({ ...range, rule: "r3" })).toMatchObject({ incidents: 1, mttd_ms: null, mttd_excluded: 1 });
      });

      it("per rule, severity and service", async () => {
        await build();
        expect(await store.kpis({ ...range, rule: "r1" })).toMatchObject({
          incidents: 2,
          alerts: 3,
          mttd_ms: 45_000,
          mttr_contain_ms: 900_000,
          mttr_resolve_ms: 2_400_000,
          false_positive_rate: 0,
        });
        expect(await store.kpis({ ...range, rule: "r2" })).toMatchObject({ incidents: 2, alerts: 2, mttd_ms: 105_000, mttr_contain_ms: null, mttr_resolve_ms: null, false_positive_rate: 1 });
        expect(await store.kpis({ ...range, severity: "high" })).toMatchObject({ incidents: 2, alerts: 3, mttd_ms: 75_000, mttr_contain_ms: 600_000, false_positive_rate: 0.5 });
        expect(await store.kpis({ ...range, service: "auth" })).toMatchObject({ incidents: 1, alerts: 1, mttd_ms: 30_000, mttr_contain_ms: 1_200_000, mttr_resolve_ms: 1_200_000, false_positive_rate: 0 });
        expect(await store.kpis({ from: at(T0, 24 * HOUR), to: at(T0, 48 * HOUR) })).toMatchObject({ incidents: 1, mttd_ms: 5000, mttr_contain_ms: 60_000, mttr_resolve_ms: null, false_positive_rate: null });
        expect(await store.kpis({ from: at(T0, -HOUR), to: T0 })).toMatchObject({ incidents: 0, alerts: 0, mttd_ms: null, mttr_contain_ms: null, mttr_resolve_ms: null, false_positive_rate: null });
      });

      it("coverage: expected services seen emitting within the last N minutes", async () => {
        const now = new Date(at(T0, HOUR));
        await store.setExpectedServices(["auth", "web", "db", "web"]);
        await store.recordServicesSeen(new Map([["auth", at(T0, HOUR - MIN)], ["web", at(T0, HOUR - 30 * MIN)], ["unexpected", at(T0, HOUR)]]));
        await store.recordServicesSeen(new Map([["auth", at(T0, 0)]])); // older: keeps the later time
        expect((await store.kpis({ ...range, now, coverageWindowMinutes: 15 })).coverage).toEqual({ expected: 3, seen: 1, ratio: 1 / 3, missing: ["db", "web"] });
        expect((await store.kpis({ ...range, now, coverageWindowMinutes: 45 })).coverage).toEqual({ expected: 3, seen: 2, ratio: 2 / 3, missing: ["db"] });
        await store.setExpectedServices([]);
        expect((await store.kpis({ ...range, now })).coverage).toBeNull();
      });
    });

    // ------------------------------------------------------------ actions

    describe("response actions ledger", () => {
      const base = (o: Partial<{ id: string; status: "pending" | "awaiting_approval"; reverse_at: string | null }> = {}) => {
        const args = { ip: "203.0.113.7", ttl: "1h" };
        return {
          id: o.id ?? actionId("alert-1", "block_ip", args),
          incident_id: "inc-1",
          alert_id: "alert-1",
          action: "block_ip",
          args,
          mode: "enforce" as const,
          status: o.status ?? ("pending" as const),
          created_at: T0,
          reverse_at: o.reverse_at ?? null,
        };
      };

      it("claims once, records the outcome and schedules the reversal", async () => {
        clock.set(at(T0, 1000));
        expect(await store.actions.claim(base())).toBe(true);
        expect(await store.actions.claim(base())).toBe(false);
        const id = base().id;
        expect(id).toBe(actionId("alert-1", "block_ip", { ttl: "1h", ip: "203.0.113.7" }));
        await store.actions.complete(id, { status: "done", reason: null, attempts: 1, reverse_at: at(T0, HOUR) });
        expect(await store.actions.get(id)).toMatchObject({ status: "done", attempts: 1, done_at: at(T0, 1000), reverse_at: at(T0, HOUR), reversed_at: null });
        expect(await store.actions.dueReversals(new Date(at(T0, HOUR - 1)), 10)).toEqual([]);
        expect((await store.actions.dueReversals(new Date(at(T0, HOUR)), 10)).map((a) => a.id)).toEqual([id]);
        await store.actions.markReversed(id, new Date(at(T0, HOUR + 5)));
        await store.actions.markReversed(id, new Date(at(T0, HOUR + 9)));
        expect(await store.actions.get(id)).toMatchObject({ status: "reversed", reversed_at: at(T0, HOUR + 5) });
        expect(await store.actions.dueReversals(new Date(at(T0, 2 * HOUR)), 10)).toEqual([]);
        expect((await store.audit.list(0, 100)).map((e) => [e.action, e.target])).toEqual([
          ["action.claim", id],
          ["action.done", id],
          ["action.reversed", id],
        ]);
        expect((await store.audit.verify()).ok).toBe(true);
        await expect(store.actions.complete("never-claimed", { status: "done", reason: null, attempts: 1, reverse_at: null })).rejects.toThrow(/never claimed/);
      });

      it("queues actions for approval, lists them and approves once", async () => {
        const a = base({ id: "needs-approval", status: "awaiting_approval" });
        await store.actions.claim(a);
        await store.actions.claim(base({ id: "other" }));
        expect((await store.actions.list({ status: "awaiting_approval" }, 10)).map((x) => x.id)).toEqual(["needs-approval"]);
        expect((await store.actions.list({ incident_id: "inc-1" }, 10)).map((x) => x.id).sort()).toEqual(["needs-approval", "other"]);
        expect(await store.actions.approve("needs-approval", ANALYST)).toBe(true);
        expect(await store.actions.approve("needs-approval", ANALYST)).toBe(false);
        expect(await store.actions.approve("other", ANALYST)).toBe(false);
        expect((await store.actions.get("needs-approval"))?.status).toBe("pending");
        await store.actions.complete("other", { status: "failed", reason: "redis unreachable", attempts: 3, reverse_at: null });
        const audit = await store.audit.list(0, 100);
        expect(audit.filter((e) => e.action === "action.approve").map((e) => [e.target, e.actor])).toEqual([["needs-approval", ANALYST]]);
        expect(audit.find((e) => e.action === "action.failed")?.details).toMatchObject({ reason: "redis unreachable", attempts: 3 });
      });

      it("shows an incident's actions on its detail", async () => {
        const a = makeAlert();
        await store.write([a], []);
        const inc = incidentId(a.rule, a.keys, a.id);
        await store.actions.claim({ ...base({ id: "x1" }), incident_id: inc, alert_id: a.id });
        expect((await store.getIncident(inc))?.actions.map((x) => x.id)).toEqual(["x1"]);
      });
    });

    // ------------------------------------------------------------ API keys

    describe("API keys", () => {
      it("stores only the SHA-256 of the secret, authenticates and revokes, audited", async () => {
        const admin: Actor = { kind: "user", id: "root" };
        const { record, secret } = await store.apiKeys.create("ci", "responder", admin);
        expect(record).toMatchObject({ name: "ci", role: "responder", revoked_at: null, last_used_at: null });
        const rows = await target.db.query<{ row: string }>("SELECT row_to_json(k)::text AS row FROM api_keys k");
        expect(rows).toHaveLength(1);
        expect(rows[0]?.row).not.toContain(secret);
        expect(rows[0]?.row).toContain(createHash("sha256").update(secret).digest("hex"));
        expect(await store.apiKeys.authenticate(secret)).toMatchObject({ id: record.id, role: "responder" });
        expect(await store.apiKeys.authenticate(`${secret}x`)).toBeUndefined();
        expect(await store.apiKeys.authenticate("")).toBeUndefined();
        expect(unwrap(await store.apiKeys.revoke(record.id, admin)).revoked_at).not.toBeNull();
        expect(await store.apiKeys.authenticate(secret)).toBeUndefined();
        const again = await store.apiKeys.revoke(record.id, admin);
        expect(again.ok ? "ok" : again.error.code).toBe("E_CONFLICT");
        const missing = await store.apiKeys.revoke("key_nope", admin);
        expect(missing.ok ? "ok" : missing.error.code).toBe("E_NOT_FOUND");
        expect((await store.audit.list(0, 100)).map((e) => [e.action, e.target, e.actor])).toEqual([
          ["apikey.create", record.id, admin],
          ["apikey.revoke", record.id, admin],
        ]);
        expect(JSON.stringify(await store.audit.list(0, 100))).not.toContain(secret);
      });

      it("bootstraps a key from a known secret once", async () => {
        const secret = "bootstrap-secret-0123456789";
        const a = await store.apiKeys.bootstrap(secret, "admin");
        const b = await store.apiKeys.bootstrap(secret, "admin");
        expect(b).toEqual(a);
        expect(await store.apiKeys.list()).toHaveLength(1);
        expect((await store.apiKeys.authenticate(secret))?.role).toBe("admin");
        await expect(store.apiKeys.bootstrap("short", "admin")).rejects.toThrow(/at least 24/);
      });
    });
  });
}
