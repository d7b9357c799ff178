/** API keys: only the SHA-256 of a secret is stored; the secret is shown once, at creation. */
import { randomBytes, randomUUID } from "node:crypto";
import type { Actor, ApiKeyRecord, ApiKeyStore, Result, Role } from "./types.js";
import type { Database } from "./db.js";
import { appendAudit } from "./audit.js";
import { sha256Hex } from "./canonical.js";
import { err, ok } from "./errors.js";
import { iso, isoOrNull } from "./rows.js";

export const ROLES: readonly Role[] = ["viewer", "analyst", "responder", "admin"];
/** `last_used_at` is written at most this often per key (authentication is on every request). */
const LAST_USED_RESOLUTION_MS = 60_000;

const COLUMNS = "id, name, role, created_at, revoked_at, last_used_at";

function toRecord(r: Record<string, unknown>): ApiKeyRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    role: r.role as Role,
    created_at: iso(r.created_at),
    revoked_at: isoOrNull(r.revoked_at),
    last_used_at: isoOrNull(r.last_used_at),
  };
}

export function hashSecret(secret: string): string {
  return sha256Hex(secret);
}

function checkRole(role: Role): void {
  if (!ROLES.includes(role)) throw new RangeError(`unknown role ${JSON.stringify(role)}: one of ${ROLES.join(", ")}`);
}

export class SqlApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  async create(name: string, role: Role, actor: Actor): Promise<{ record: ApiKeyRecord; secret: string }> {
    checkRole(role);
    if (name.trim() === "") throw new RangeError("an API key needs a name");
    const secret = `vgl_${randomBytes(32).toString("base64url")}`;
    const id = `key_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
    return this.db.transaction(async (tx) => {
      const at = this.now();
      const [row] = await tx.query(
        `INSERT INTO api_keys (id, name, role, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [id, name, role, hashSecret(secret), at.toISOString()],
      );
      await appendAudit(tx, at, actor, "apikey.create", id, { name, role });
      return { record: toRecord(row!), secret };
    });
  }

  async authenticate(secret: string): Promise<ApiKeyRecord | undefined> {
    if (secret.length === 0) return undefined;
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL`, [hashSecret(secret)]);
    if (row === undefined) return undefined;
    const rec = toRecord(row);
    const now = this.now();
    if (rec.last_used_at === null || now.getTime() - Date.parse(rec.last_used_at) >= LAST_USED_RESOLUTION_MS) {
      await this.db.query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", [rec.id, now.toISOString()]);
      return { ...rec, last_used_at: now.toISOString() };
    }
    return rec;
  }

  async bootstrap(secret: string, role: Role): Promise<ApiKeyRecord> {
    checkRole(role);
    if (secret.length < 24) throw new RangeError("VIGIL_BOOTSTRAP_API_KEY must be at least 24 characters");
    const hash = hashSecret(secret);
    const id = `key_boot_${hash.slice(0, 12)}`;
    return this.db.transaction(async (tx) => {
      const at = this.now();
      const inserted = await tx.query(
        `INSERT INTO api_keys (id, name, role, secret_hash, created_at) VALUES ($1, 'bootstrap', $2, $3, $4)
         ON CONFLICT (secret_hash) DO NOTHING RETURNING ${COLUMNS}`,
        [id, role, hash, at.toISOString()],
      );
      if (inserted[0] !== undefined) {
        await appendAudit(tx, at, { kind: "system", id: "bootstrap" }, "apikey.create", id, { name: "bootstrap", role });
        return toRecord(inserted[0]);
      }
      // An existing key keeps its role and, when it was revoked, stays revoked.
      const [row] = await tx.query(`SELECT ${COLUMNS} FROM api_keys WHERE secret_hash = $1`, [hash]);
      return toRecord(row!);
    });
  }

  async list(): Promise<readonly ApiKeyRecord[]> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return rows.map(toRecord);
  }

  revoke(id: string, actor: Actor): Promise<Result<ApiKeyRecord>> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1 FOR UPDATE`, [id]);
      if (row === undefined) return err<ApiKeyRecord>("E_NOT_FOUND", `no API key ${id}`);
      if (row.revoked_at !== null) return err<ApiKeyRecord>("E_CONFLICT", `API key ${id} was already revoked at ${iso(row.revoked_at)}`);
      const at = this.now();
      const [updated] = await tx.query(`UPDATE api_keys SET revoked_at = $2 WHERE id = $1 RETURNING ${COLUMNS}`, [id, at.toISOString()]);
      await appendAudit(tx, at, actor, "apikey.revoke", id, { name: String(row.name) });
      return ok(toRecord(updated!));
    });
  }
}
