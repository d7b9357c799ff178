/**
 * The audit log: append-only, each entry hash-chained to the one before it.
 *
 * hash(n) = SHA-256(prev_hash(n) + "\n" + canonical JSON of {seq, at, actor, action, target, details})
 *
 * with prev_hash(1) = 64 zeros, and after pruning prev_hash(first kept) = the anchor.
 * Appends lock the single `audit_head` row, so concurrent appenders (several API requests,
 * responders, other processes on the same database) queue rather than fork the chain. The
 * head also records the last seq and hash, so deleting the newest entries is caught too.
 */
import type { Actor, AuditEntry, AuditLog, AuditVerification } from "./types.js";
import { maskValue } from "../../engine/mask.js";
import type { Database, Queryable } from "./db.js";
import { canonicalJson, sha256Hex } from "./canonical.js";
import { iso, num, obj } from "./rows.js";

export function auditHash(prevHash: string, e: { seq: number; at: string; actor: Actor; action: string; target: string; details: Readonly<Record<string, unknown>> }): string {
  const body = canonicalJson({ seq: e.seq, at: e.at, actor: { kind: e.actor.kind, id: e.actor.id }, action: e.action, target: e.target, details: e.details });
  return sha256Hex(`${prevHash}\n${body}`);
}

interface AuditRow {
  seq: unknown;
  at: unknown;
  actor_kind: string;
  actor_id: string;
  action: string;
  target: string;
  details: unknown;
  prev_hash: string;
  hash: string;
  [k: string]: unknown;
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    seq: num(r.seq),
    at: iso(r.at),
    actor: { kind: r.actor_kind as Actor["kind"], id: r.actor_id },
    action: r.action,
    target: r.target,
    details: obj(r.details),
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}

const COLUMNS = "seq, at, actor_kind, actor_id, action, target, details, prev_hash, hash";

/** Appends an entry inside the caller's transaction (so the audited write and its entry commit together). */
export async function appendAudit(
  tx: Queryable,
  at: Date,
  actor: Actor,
  action: string,
  target: string,
  details: Readonly<Record<string, unknown>>,
): Promise<AuditEntry> {
  const [entry] = await appendAuditMany(tx, at, actor, [{ action, target, details }]);
  return entry!;
}

/** Appends several entries of one actor in order, under one lock of the head, in one statement. */
export async function appendAuditMany(
  tx: Queryable,
  at: Date,
  actor: Actor,
  items: readonly { action: string; target: string; details: Readonly<Record<string, unknown>> }[],
): Promise<AuditEntry[]> {
  if (items.length === 0) return [];
  const [head] = await tx.query<{ last_seq: unknown; last_hash: string }>("SELECT last_seq, last_hash FROM audit_head WHERE id = 1 FOR UPDATE");
  if (head === undefined) throw new Error("audit_head is missing: the audit log's schema is damaged");
  let seq = num(head.last_seq);
  let prev = head.last_hash;
  const entries: AuditEntry[] = items.map((it) => {
    const details = JSON.parse(canonicalJson(maskValue(it.details))) as Record<string, unknown>; // card numbers, ids, secrets never enter the log
    const e = { seq: ++seq, at: at.toISOString(), actor: { kind: actor.kind, id: actor.id }, action: it.action, target: it.target, details };
    const hash = auditHash(prev, e);
    const entry = { ...e, prev_hash: prev, hash };
    prev = hash;
    return entry;
  });
  await tx.query(
    `INSERT INTO audit_log (${COLUMNS})
     SELECT seq, at, actor_kind, actor_id, action, target, details, prev_hash, hash
     FROM jsonb_to_recordset($1::jsonb) AS x(seq bigint, at timestamptz, actor_kind text, actor_id text, action text, target text, details jsonb, prev_hash text, hash text)`,
    [JSON.stringify(entries.map((e) => ({ seq: e.seq, at: e.at, actor_kind: e.actor.kind, actor_id: e.actor.id, action: e.action, target: e.target, details: e.details, prev_hash: e.prev_hash, hash: e.hash })))],
  );
  await tx.query("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1", [seq, prev]);
  return entries;
}

const PAGE = 1000;

export class SqlAuditLog implements AuditLog {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  append(actor: Actor, action: string, target: string, details: Readonly<Record<string, unknown>>): Promise<AuditEntry> {
    return this.db.transaction((tx) => appendAudit(tx, this.now(), actor, action, target, details));
  }

  async list(afterSeq: number, limit: number): Promise<readonly AuditEntry[]> {
    const rows = await this.db.query<AuditRow>(`SELECT ${COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, clampLimit(limit)]);
    return rows.map(toEntry);
  }

  async verify(): Promise<AuditVerification> {
    const [head] = await this.db.query<{ last_seq: unknown; last_hash: string; anchor_seq: unknown; anchor_hash: string }>(
      "SELECT last_seq, last_hash, anchor_seq, anchor_hash FROM audit_head WHERE id = 1",
    );
    if (head === undefined) return { ok: false, entries: 0, anchor: null, failed_at: 1, reason: "the chain's head row is missing" };
    const lastSeq = num(head.last_seq);
    const anchorSeq = num(head.anchor_seq);
    const anchor = anchorSeq > 0 ? head.anchor_hash : null;
    let expectedSeq = anchorSeq + 1;
    let expectedPrev = head.anchor_hash;
    let entries = 0;
    const fail = (at: number, reason: string): AuditVerification => ({ ok: false, entries, anchor, failed_at: at, reason });

    let after = -Infinity;
    for (;;) {
      const rows = await this.db.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
        [after === -Infinity ? -1 : after, lastSeq, PAGE],
      );
      for (const r of rows) {
        const e = toEntry(r);
        if (e.seq < expectedSeq) return fail(e.seq, `entry ${e.seq} precedes the anchor (seq ${anchorSeq}): the anchor or the entry was changed`);
        if (e.seq > expectedSeq) return fail(expectedSeq, `entry ${expectedSeq} is missing (deleted)`);
        const contentOk = auditHash(e.prev_hash, e) === e.hash;
        const linkOk = e.prev_hash === expectedPrev;
        if (!linkOk) {
          const [other] = await this.db.query<{ seq: unknown }>("SELECT seq FROM audit_log WHERE hash = $1 AND seq <> $2 LIMIT 1", [e.prev_hash, e.seq - 1]);
          if (other !== undefined) return fail(e.seq, `entry ${e.seq} is out of order: it follows the entry now at seq ${num(other.seq)} (reordered)`);
          if (!contentOk) return fail(e.seq, `entry ${e.seq} was changed: its content does not match its hash`);
          return fail(e.seq, `entry ${e.seq} does not link to entry ${e.seq - 1}${e.seq - 1 === anchorSeq ? " (the anchor)" : ""}: an entry was changed or replaced`);
        }
        if (!contentOk) return fail(e.seq, `entry ${e.seq} was changed: its content does not match its hash`);
        expectedPrev = e.hash;
        expectedSeq = e.seq + 1;
        entries++;
      }
      if (rows.length < PAGE) break;
      after = num(rows[rows.length - 1]!.seq);
    }
    if (expectedSeq <= lastSeq) return fail(expectedSeq, `entries ${expectedSeq}..${lastSeq} are missing (deleted)`);
    if (expectedPrev !== head.last_hash) return fail(lastSeq, `entry ${lastSeq} does not match the chain's head (changed)`);
    return { ok: true, entries, anchor };
  }

  async prune(retentionDays: number, now: Date): Promise<number> {
    if (!Number.isFinite(retentionDays) || retentionDays < 0) throw new RangeError(`retention must be a number of days ≥ 0, got ${retentionDays}`);
    const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
    return this.db.transaction(async (tx) => {
      const [head] = await tx.query<{ last_seq: unknown; anchor_seq: unknown }>("SELECT last_seq, anchor_seq FROM audit_head WHERE id = 1 FOR UPDATE");
      if (head === undefined) throw new Error("audit_head is missing: the audit log's schema is damaged");
      // The kept chain starts at the oldest entry at or after the cutoff (a prefix goes).
      const [first] = await tx.query<{ seq: unknown }>("SELECT min(seq) AS seq FROM audit_log WHERE at >= $1", [cutoff.toISOString()]);
      const keepFrom = first?.seq === null || first?.seq === undefined ? num(head.last_seq) + 1 : num(first.seq);
      const cut = keepFrom - 1;
      if (cut <= num(head.anchor_seq)) return 0;
      const [last] = await tx.query<{ hash: string }>("SELECT hash FROM audit_log WHERE seq = $1", [cut]);
      if (last === undefined) throw new Error(`audit entry ${cut} is missing: run verification before pruning`);
      await tx.query("SELECT set_config('vigil.audit_prune', 'on', true)");
      const deleted = await tx.query<{ seq: unknown }>("DELETE FROM audit_log WHERE seq <= $1 RETURNING seq", [cut]);
      await tx.query("SELECT set_config('vigil.audit_prune', 'off', true)");
      await tx.query("UPDATE audit_head SET anchor_seq = $1, anchor_hash = $2 WHERE id = 1", [cut, last.hash]);
      await appendAudit(tx, this.now(), { kind: "system", id: "retention" }, "audit.prune", "audit_log", {
        removed: deleted.length,
        anchor_seq: cut,
        anchor_hash: last.hash,
        retention_days: retentionDays,
      });
      return deleted.length;
    });
  }
}

export function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 100;
  return Math.max(1, Math.min(1000, Math.floor(limit)));
}

/** The platform's policy: audit trails are kept 2,555 days (7 years). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 2555;
