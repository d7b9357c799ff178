/**
 * The store's schema, as numbered migrations. `migrate` runs the pending ones in one
 * transaction on start, under an advisory lock (two instances starting together apply each
 * migration once), and records them in `schema_migrations`. A migration is never edited
 * once released: a change is a new migration.
 */
import type { Database } from "./db.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The hash an audit chain starts from: 64 zeros. */
export const GENESIS_HASH = "0".repeat(64);

const OPEN = "('new', 'acknowledged', 'contained')";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "incidents, alerts, evidence, transitions, comments, rule versions, audit log",
    sql: `
CREATE TABLE incidents (
  id              text PRIMARY KEY,
  rule            text NOT NULL,
  group_key       text NOT NULL,
  title           text NOT NULL,
  severity        text NOT NULL,
  state           text NOT NULL CHECK (state IN ('new', 'acknowledged', 'contained', 'resolved', 'false_positive')),
  keys            jsonb NOT NULL,
  service         text,
  assignee        text,
  alert_count     integer NOT NULL DEFAULT 0,
  first_event_at  timestamptz NOT NULL,
  first_fired_at  timestamptz NOT NULL,
  last_fired_at   timestamptz NOT NULL,
  detected_at     timestamptz NOT NULL,
  acknowledged_at timestamptz,
  contained_at    timestamptz,
  resolved_at     timestamptz,
  closed_at       timestamptz,
  updated_at      timestamptz NOT NULL
);
CREATE INDEX incidents_detected ON incidents (detected_at, id);
CREATE INDEX incidents_open_group ON incidents (group_key, last_fired_at) WHERE state IN ${OPEN};
CREATE INDEX incidents_rule ON incidents (rule, detected_at);

CREATE TABLE alerts (
  id             text PRIMARY KEY,
  incident_id    text NOT NULL REFERENCES incidents (id),
  rule           text NOT NULL,
  rule_version   text NOT NULL,
  title          text NOT NULL,
  severity       text NOT NULL,
  risk           double precision,
  tags           jsonb NOT NULL,
  keys           jsonb NOT NULL,
  count          integer NOT NULL,
  value          double precision,
  first_event_at timestamptz NOT NULL,
  last_event_at  timestamptz NOT NULL,
  fired_at       timestamptz NOT NULL,
  detected_at    timestamptz NOT NULL,
  suppressed     integer NOT NULL DEFAULT 0,
  evidence       jsonb NOT NULL,
  actions        jsonb NOT NULL
);
CREATE INDEX alerts_incident ON alerts (incident_id, fired_at);
CREATE INDEX alerts_detected ON alerts (detected_at, id);

CREATE TABLE evidence_events (
  incident_id text NOT NULL REFERENCES incidents (id),
  event_id    text NOT NULL,
  alert_id    text NOT NULL,
  at          timestamptz NOT NULL,
  fields      jsonb NOT NULL,
  PRIMARY KEY (incident_id, event_id)
);

CREATE TABLE incident_transitions (
  id          bigserial PRIMARY KEY,
  incident_id text NOT NULL REFERENCES incidents (id),
  from_state  text NOT NULL,
  to_state    text NOT NULL,
  at          timestamptz NOT NULL,
  actor_kind  text NOT NULL,
  actor_id    text NOT NULL,
  reason      text
);
CREATE INDEX incident_transitions_incident ON incident_transitions (incident_id, id);

CREATE TABLE incident_comments (
  id          text PRIMARY KEY,
  incident_id text NOT NULL REFERENCES incidents (id),
  at          timestamptz NOT NULL,
  actor_kind  text NOT NULL,
  actor_id    text NOT NULL,
  text        text NOT NULL
);
CREATE INDEX incident_comments_incident ON incident_comments (incident_id, at);

CREATE TABLE rule_versions (
  rule        text NOT NULL,
  version     text NOT NULL,
  source      text NOT NULL,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (rule, version)
);

CREATE TABLE audit_log (
  seq        bigint PRIMARY KEY,
  at         timestamptz NOT NULL,
  actor_kind text NOT NULL,
  actor_id   text NOT NULL,
  action     text NOT NULL,
  target     text NOT NULL,
  details    jsonb NOT NULL,
  prev_hash  text NOT NULL,
  hash       text NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain's head (serialises appends: each append locks this row) and its anchor (where
-- the kept chain starts after pruning).
CREATE TABLE audit_head (
  id          integer PRIMARY KEY CHECK (id = 1),
  last_seq    bigint NOT NULL,
  last_hash   text NOT NULL,
  anchor_seq  bigint NOT NULL,
  anchor_hash text NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash, anchor_seq, anchor_hash) VALUES (1, 0, '${GENESIS_HASH}', 0, '${GENESIS_HASH}');

-- Append-only: no UPDATE ever; DELETE only by retention (which sets vigil.audit_prune).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('vigil.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
`,
  },
  {
    version: 2,
    name: "response actions, API keys, service coverage",
    sql: `
CREATE TABLE response_actions (
  id          text PRIMARY KEY,
  incident_id text,
  alert_id    text NOT NULL,
  action      text NOT NULL,
  args        jsonb NOT NULL,
  mode        text NOT NULL CHECK (mode IN ('enforce', 'dry_run', 'approve')),
  status      text NOT NULL CHECK (status IN ('pending', 'awaiting_approval', 'done', 'skipped', 'failed', 'reversed')),
  reason      text,
  attempts    integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL,
  done_at     timestamptz,
  reverse_at  timestamptz,
  reversed_at timestamptz
);
CREATE INDEX response_actions_due ON response_actions (reverse_at) WHERE status = 'done' AND reversed_at IS NULL AND reverse_at IS NOT NULL;
CREATE INDEX response_actions_status ON response_actions (status, created_at);
CREATE INDEX response_actions_incident ON response_actions (incident_id, created_at);

CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  role         text NOT NULL CHECK (role IN ('viewer', 'analyst', 'responder', 'admin')),
  secret_hash  text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  last_used_at timestamptz
);

CREATE TABLE services_seen (
  service      text PRIMARY KEY,
  last_seen_at timestamptz NOT NULL
);

CREATE TABLE expected_services (
  service text PRIMARY KEY
);
`,
  },
];

/** The schema version this code expects. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** An arbitrary constant: the advisory lock migrations hold. */
const MIGRATION_LOCK = 7_261_442_019;

/**
 * Applies the migrations not yet applied, in order, in one transaction; returns the
 * versions it applied (none when the schema is current). `upTo` stops at a version (tests
 * of upgrades). Refuses a database whose schema is newer than this code.
 */
export async function migrate(db: Database, upTo: number = SCHEMA_VERSION, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    const rows = await tx.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    const applied = new Set(rows.map((r) => Number(r.version)));
    const newest = Math.max(0, ...applied);
    const known = migrations[migrations.length - 1]?.version ?? 0;
    if (newest > known) {
      throw new Error(`the database's schema is version ${newest}, newer than this Vigil's (${known}): upgrade Vigil or point it at another database`);
    }
    const done: number[] = [];
    for (const m of migrations) {
      if (m.version > upTo || applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      done.push(m.version);
    }
    return done;
  });
}
