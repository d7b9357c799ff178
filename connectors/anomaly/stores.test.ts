import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ModelFile, ScoringModel, trainModel } from "../../engine/anomaly/model-file.js";
import type { Matrix } from "../../engine/anomaly/matrix.js";
import { seededRng } from "../../engine/anomaly/rng.js";
import type { ModelStore } from "../../engine/anomaly/store.js";
import { type PgDatabase, withPgDatabase } from "../../test/support/services.js";
import { FileModelStore } from "./file-store.js";
import { PgModelStore } from "./pg-store.js";

function table(seed: number): Matrix {
  const r = seededRng(seed);
  const data = new Float64Array(500 * 2);
  for (let i = 0; i < data.length; i++) data[i] = r();
  return { rows: 500, cols: 2, data };
}

function model(name: string, seed: number): ModelFile {
  return trainModel({ name, x: table(seed), columns: ["a", "b"], defs: null, source: `test seed ${seed}`, params: { trees: 10, seed }, now: () => Date.UTC(2024, 0, seed) }).file;
}

async function contract(store: ModelStore): Promise<void> {
  expect(await store.latest("m")).toBeUndefined();
  expect(await store.list("m")).toEqual([]);
  const v1 = await store.save(model("m", 1));
  const v2 = await store.save(model("m", 2));
  await store.save(model("other", 3));
  expect([v1.version, v2.version]).toEqual([1, 2]);
  expect((await store.latest("m"))?.version).toBe(2);
  expect((await store.list("m")).map((i) => [i.version, i.rows, i.source, i.created_at])).toEqual([
    [1, 500, "test seed 1", "2024-01-01T00:00:00.000Z"],
    [2, 500, "test seed 2", "2024-01-02T00:00:00.000Z"],
  ]);
  // A stored model scores exactly as the one trained.
  const got = await store.get("m", 1);
  expect(got).toBeDefined();
  const x = table(9);
  expect(Array.from(ScoringModel.load(got as ModelFile).score(x).calibrated)).toEqual(Array.from(ScoringModel.load(v1).score(x).calibrated));
  expect(await store.get("m", 7)).toBeUndefined();
}

describe("FileModelStore", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-models-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("versions, latest, get, list", async () => {
    await contract(new FileModelStore(dir));
  });

  test("refuses unsafe names and reports a corrupt file", async () => {
    const store = new FileModelStore(dir);
    await expect(store.latest("../etc")).rejects.toThrow(/model name/);
    mkdirSync(join(dir, "broken"));
    writeFileSync(join(dir, "broken", "v000001.json"), JSON.stringify({ format: "something else" }));
    await expect(store.latest("broken")).rejects.toThrow(/not a Vigil anomaly model/);
  });
});

describe("PgModelStore (real PostgreSQL)", () => {
  let db: PgDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await withPgDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    // An idle client ended by the server (the database dropped at the end) is not a test failure.
    pool.on("error", () => undefined);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  test("idempotent DDL; versions, latest, get, list", async () => {
    const store = new PgModelStore(pool);
    await store.ensureSchema();
    await store.ensureSchema();
    await contract(store);
    const meta = await pool.query<{ metadata: { params: { seed: number }; columns: string[] } }>("SELECT metadata FROM vigil_models WHERE name = 'm' AND version = 2");
    expect(meta.rows[0]?.metadata).toMatchObject({ params: { seed: 2 }, columns: ["a", "b"] });
  });

  test("concurrent saves get distinct versions", async () => {
    const store = new PgModelStore(pool);
    await store.ensureSchema();
    const saved = await Promise.all([1, 2, 3, 4].map((s) => store.save(model("race", s))));
    expect(saved.map((s) => s.version).sort()).toEqual([1, 2, 3, 4]);
  });
});
