// Opening the store: the embedded default (PGlite under a data folder) keeps its data
// across restarts; URLs choose the database.
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeAlert } from "../../test/support/store-suite.js";
import { withPgDatabase } from "../../test/support/services.js";
import { openStore } from "./open.js";
import { incidentId } from "./store.js";

describe("openStore", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-store-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps PGlite's data under its data folder across a restart", { timeout: 120_000 }, async () => {
    const dataDir = join(dir, "nested", "db");
    const a = makeAlert();
    const first = await openStore({ dataDir });
    await first.write([a], []);
    await first.audit.append({ kind: "user", id: "alice" }, "test.persist", "x", {});
    await first.close();
    expect(existsSync(dataDir)).toBe(true);
    const second = await openStore({ dataDir });
    try {
      expect((await second.getIncident(incidentId(a.rule, a.keys, a.id)))?.alert_count).toBe(1);
      expect(await second.audit.verify()).toMatchObject({ ok: true, entries: 2 });
      expect(second.db.kind).toBe("pglite");
    } finally {
      await second.close();
    }
  });

  it("opens PostgreSQL for a postgres:// URL and migrates it", async () => {
    const pg = await withPgDatabase();
    try {
      const store = await openStore({ databaseUrl: pg.url });
      try {
        expect(store.db.kind).toBe("postgres");
        const rows = await store.db.query("SELECT version FROM schema_migrations");
        expect(rows.length).toBeGreaterThan(0);
      } finally {
        await store.close();
      }
    } finally {
      await pg.drop();
    }
  });

  it("refuses an unknown URL scheme with an actionable message, without echoing a password", async () => {
    await expect(openStore({ databaseUrl: "mysql://root:hunter2@localhost/db" })).rejects.toThrow(/must start with postgres:\/\//);
    await expect(openStore({ databaseUrl: "mysql://root:hunter2@localhost/db" })).rejects.not.toThrow(/hunter2/);
  });
});
