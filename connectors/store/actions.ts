/** The response actions ledger: claims (idempotent by id), outcomes, approvals, reversals. */
import type { ActionLedger, ActionStatus, Actor, ResponseActionRecord } from "./types.js";
import type { Database } from "./db.js";
import { appendAudit, clampLimit } from "./audit.js";
import { hashId } from "./canonical.js";
import { canonicalJson } from "./canonical.js";
import { iso, isoOrNull, num, obj, strOrNull } from "./rows.js";

const RESPONDER: Actor = { kind: "system", id: "responder" };

/** Deterministic action id from the alert, the action's name and its arguments. */
export function actionId(alertId: string, action: string, args: Readonly<Record<string, unknown>>): string {
  return hashId([alertId, action, canonicalJson(args)]);
}

const COLUMNS = "id, incident_id, alert_id, action, args, mode, status, reason, attempts, created_at, done_at, reverse_at, reversed_at";

function toRecord(r: Record<string, unknown>): ResponseActionRecord {
  return {
    id: String(r.id),
    incident_id: strOrNull(r.incident_id),
    alert_id: String(r.alert_id),
    action: String(r.action),
    args: obj(r.args),
    mode: r.mode as ResponseActionRecord["mode"],
    status: r.status as ActionStatus,
    reason: strOrNull(r.reason),
    attempts: num(r.attempts),
    created_at: iso(r.created_at),
    done_at: isoOrNull(r.done_at),
    reverse_at: isoOrNull(r.reverse_at),
    reversed_at: isoOrNull(r.reversed_at),
  };
}

export class SqlActionLedger implements ActionLedger {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  claim(a: Parameters<ActionLedger["claim"]>[0]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(
        `INSERT INTO response_actions (id, incident_id, alert_id, action, args, mode, status, attempts, created_at, reverse_at)
         VALUES ($1, COALESCE($2, (SELECT incident_id FROM alerts WHERE id = $3)), $3, $4, $5::jsonb, $6, $7, 0, $8, $9)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [a.id, a.incident_id, a.alert_id, a.action, JSON.stringify(a.args), a.mode, a.status, a.created_at, a.reverse_at],
      );
      if (rows.length === 0) return false;
      await appendAudit(tx, this.now(), RESPONDER, "action.claim", a.id, {
        action: a.action,
        args: a.args,
        mode: a.mode,
        status: a.status,
        alert_id: a.alert_id,
        incident_id: a.incident_id,
      });
      return true;
    });
  }

  complete(id: string, outcome: { status: "done" | "skipped" | "failed"; reason: string | null; attempts: number; reverse_at: string | null }): Promise<void> {
    return this.db.transaction(async (tx) => {
      const at = this.now();
      const rows = await tx.query(
        "UPDATE response_actions SET status = $2, reason = $3, attempts = $4, reverse_at = $5, done_at = $6, incident_id = COALESCE(incident_id, (SELECT a.incident_id FROM alerts a WHERE a.id = response_actions.alert_id)) WHERE id = $1 RETURNING action, incident_id",
        [id, outcome.status, outcome.reason, outcome.attempts, outcome.reverse_at, at.toISOString()],
      );
      if (rows.length === 0) throw new Error(`response action ${id} was never claimed`);
      await appendAudit(tx, at, RESPONDER, `action.${outcome.status}`, id, {
        action: rows[0]!.action,
        incident_id: rows[0]!.incident_id,
        reason: outcome.reason,
        attempts: outcome.attempts,
        reverse_at: outcome.reverse_at,
      });
    });
  }

  async dueReversals(now: Date, limit: number): Promise<readonly ResponseActionRecord[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM response_actions
       WHERE status = 'done' AND reversed_at IS NULL AND reverse_at IS NOT NULL AND reverse_at <= $1
       ORDER BY reverse_at, id LIMIT $2`,
      [now.toISOString(), clampLimit(limit)],
    );
    return rows.map(toRecord);
  }

  markReversed(id: string, at: Date): Promise<void> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(
        "UPDATE response_actions SET status = 'reversed', reversed_at = $2 WHERE id = $1 AND reversed_at IS NULL RETURNING action, incident_id",
        [id, at.toISOString()],
      );
      if (rows.length === 0) return;
      await appendAudit(tx, this.now(), RESPONDER, "action.reversed", id, { action: rows[0]!.action, incident_id: rows[0]!.incident_id, reversed_at: at.toISOString() });
    });
  }

  async get(id: string): Promise<ResponseActionRecord | undefined> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM response_actions WHERE id = $1`, [id]);
    return row === undefined ? undefined : toRecord(row);
  }

  async list(filter: { status?: ActionStatus; incident_id?: string }, limit: number): Promise<readonly ResponseActionRecord[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM response_actions
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR incident_id = $2)
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [filter.status ?? null, filter.incident_id ?? null, clampLimit(limit)],
    );
    return rows.map(toRecord);
  }

  approve(id: string, actor: Actor): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(
        "UPDATE response_actions SET status = 'pending' WHERE id = $1 AND status = 'awaiting_approval' RETURNING action, incident_id",
        [id],
      );
      if (rows.length === 0) return false;
      await appendAudit(tx, this.now(), actor, "action.approve", id, { action: rows[0]!.action, incident_id: rows[0]!.incident_id });
      return true;
    });
  }
}
