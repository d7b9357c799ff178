// Runs against the machine's real servers (bash scripts/services.sh starts them).
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  createInfluxDatabase,
  dropInfluxDatabase,
  influxQuery,
  influxWrite,
  natsUrl,
  redisUrl,
  influxUrl,
  uniqueName,
  withPgDatabase,
  adminDatabaseUrl,
} from "./services.js";

describe("uniqueName", () => {
  it("makes short names that are safe for NATS, Redis, PostgreSQL and InfluxDB", () => {
    for (const prefix of ["alerts", "Vigil.Test-Run 1", "9lives", "", "x".repeat(100), "security.events.>"]) {
      const name = uniqueName(prefix);
      expect(name).toMatch(/^[a-z_][a-z0-9_]*_[0-9a-f]{10}$/);
      expect(name.length).toBeLessThanOrEqual(43);
    }
    expect(uniqueName("alerts")).toMatch(/^alerts_[0-9a-f]{10}$/);
  });

  it("does not repeat itself", () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName("n")));
    expect(names.size).toBe(1000);
  });
});

describe("service URLs", () => {
  it("default to the machine's local servers", () => {
    expect(natsUrl()).toMatch(/^nats:\/\//);
    expect(redisUrl()).toMatch(/^redis:\/\//);
    expect(influxUrl()).toMatch(/^https?:\/\/[^/]+$/);
    expect(adminDatabaseUrl()).toMatch(/^postgres(ql)?:\/\//);
  });
});

async function pgDatabaseExists(name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    const res = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return res.rowCount === 1;
  } finally {
    await admin.end();
  }
}

describe("withPgDatabase", () => {
  it("creates a fresh database that a test can use, then drops it", async () => {
    const db = await withPgDatabase();
    try {
      expect(db.name).toMatch(/^vigil_test_[0-9a-f]{10}$/);
      expect(new URL(db.url).pathname).toBe(`/${db.name}`);
      expect(await pgDatabaseExists(db.name)).toBe(true);

      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const current = await client.query<{ db: string }>("SELECT current_database() AS db");
        expect(current.rows[0]?.db).toBe(db.name);
        const tables = await client.query<{ n: string }>(
          "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
        );
        expect(tables.rows[0]?.n).toBe("0");
        await client.query("CREATE TABLE t (id int PRIMARY KEY, note text)");
        await client.query("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
        const rows = await client.query<{ id: number; note: string }>("SELECT id, note FROM t ORDER BY id");
        expect(rows.rows).toEqual([
          { id: 1, note: "one" },
          { id: 2, note: "two" },
        ]);
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
    }
    expect(await pgDatabaseExists(db.name)).toBe(false);
    await db.drop(); // a second drop is harmless
  });

  it("drops a database that still has an open connection", async () => {
    const db = await withPgDatabase();
    const client = new pg.Client({ connectionString: db.url });
    client.on("error", () => {
      // the server ends this connection when the database is dropped
    });
    await client.connect();
    try {
      await db.drop();
      expect(await pgDatabaseExists(db.name)).toBe(false);
    } finally {
      await client.end().catch(() => undefined);
    }
  });

  it("gives each caller its own database", async () => {
    const [a, b] = await Promise.all([withPgDatabase(), withPgDatabase()]);
    try {
      expect(a.name).not.toBe(b.name);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});

async function influxDatabases(): Promise<string[]> {
  const [result] = await influxQuery("SHOW DATABASES");
  return (result?.series?.[0]?.values ?? []).map((row) => String(row[0]));
}

describe("InfluxDB databases", () => {
  it("creates a database, writes a point, reads it back and drops it", async () => {
    const name = uniqueName("vigil_test");
    await createInfluxDatabase(name);
    try {
      expect(await influxDatabases()).toContain(name);

      await influxWrite(
        name,
        [
          "auth_failures,service=sshd,host=web1 count=3i,score=0.75 1700000000",
          "auth_failures,service=sshd,host=web2 count=5i,score=0.5 1700000060",
        ],
        "s",
      );
      const [result] = await influxQuery(
        'SELECT "count", "score", "host" FROM "auth_failures" ORDER BY time',
        {
          db: name,
          epoch: "s",
        },
      );
      const series = result?.series?.[0];
      expect(series?.name).toBe("auth_failures");
      expect(series?.columns).toEqual(["time", "count", "score", "host"]);
      expect(series?.values).toEqual([
        [1700000000, 3, 0.75, "web1"],
        [1700000060, 5, 0.5, "web2"],
      ]);

      const [sum] = await influxQuery('SELECT sum("count") FROM "auth_failures" WHERE "service" = \'sshd\'', {
        db: name,
      });
      expect(sum?.series?.[0]?.values?.[0]?.[1]).toBe(8);
    } finally {
      await dropInfluxDatabase(name);
    }
    expect(await influxDatabases()).not.toContain(name);
  });

  it("reports InfluxDB's errors", async () => {
    await expect(influxQuery("SELECT nonsense FROM", { db: "_internal" })).rejects.toThrow(/InfluxDB/);
    await expect(influxWrite(uniqueName("vigil_missing"), "m v=1")).rejects.toThrow(/404|database not found/);
    await expect(createInfluxDatabase('bad"name')).rejects.toThrow(/not a plain identifier/);
  });
});
