import { InfluxDB } from "influx";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadPack } from "../../dsl/index.js";
import { Engine } from "../../engine/index.js";
import { createInfluxDatabase, dropInfluxDatabase, influxQuery, influxUrl, uniqueName } from "../../test/support/services.js";
import { InfluxScoreWriter, SCORE_MEASUREMENT } from "./influx-scores.js";

const T0 = Date.UTC(2024, 0, 1);

describe("InfluxScoreWriter (real InfluxDB 1.x)", () => {
  const db = uniqueName("vigil_scores");
  beforeAll(() => createInfluxDatabase(db));
  afterAll(() => dropInfluxDatabase(db));

  test("an engine's anomaly scores land in vigil_anomaly_score at event time, tagged by model and key", async () => {
    const url = new URL(influxUrl());
    const influx = new InfluxDB({ host: url.hostname, port: Number(url.port || 8086), protocol: url.protocol === "https:" ? "https" : "http", database: db });
    const writer = new InfluxScoreWriter(influx, { batch: 50 });
    const pack = loadPack([
      {
        path: "t.vigil",
        text: `model m { features bytes by host train 10m }
               rule r { severity low when kind == "net" anomaly m > 0.99 }`,
      },
    ]);
    const engine = new Engine(pack, { onAlert: () => undefined, now: () => T0 + 86_400_000, anomaly: { onScore: (s) => writer.add(s), minRows: 10 } });
    // 20 minutes, one event every 10 s for one host: 10 minutes of baseline, then 60 scored.
    for (let i = 0; i < 120; i++) engine.process({ id: `e${i}`, ts: T0 + i * 10_000, seq: i, fields: { kind: "net", host: "h1", bytes: 1000 + (i % 7) } });
    await writer.flush();
    const res = await influxQuery(`SELECT score, raw, version, fired, event_id FROM ${SCORE_MEASUREMENT} WHERE "model" = 'm' AND "key" = 'h1'`, { db, epoch: "ms" });
    const values = res[0]?.series?.[0]?.values ?? [];
    expect(values).toHaveLength(60);
    const first = values[0] as [number, number, number, number, boolean, string];
    expect(first[0]).toBe(T0 + 60 * 10_000);
    expect(first[5]).toBe("e60");
    expect(first[3]).toBe(1);
    for (const v of values) {
      expect(v[1]).toBeGreaterThanOrEqual(0);
      expect(v[1]).toBeLessThanOrEqual(1);
    }
    expect(writer.dropped).toBe(0);
  });

  test("a failed write keeps the points for the next flush", async () => {
    const influx = new InfluxDB({ host: "127.0.0.1", port: 1, database: db });
    const writer = new InfluxScoreWriter(influx, { batch: 1000 });
    writer.add({ model: "m", version: 1, key: "k", ts: T0, eventId: "x", raw: 0.5, score: 0.5, fired: false });
    await expect(writer.flush()).rejects.toThrow();
    await expect(writer.flush()).rejects.toThrow(); // still there, tried again
  });
});
