import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, test } from "vitest";
import { natsUrl, uniqueName } from "../../test/support/services.js";
import { meanSd } from "../../engine/anomaly/auc.js";
import { main } from "../main.js";

const FIXTURE = join(import.meta.dirname, "../../test/fixtures/anomaly/synthetic.csv");
const tmp = mkdtempSync(join(tmpdir(), "vigil-anomaly-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function vigil(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe("vigil anomaly eval", () => {
  test("--json: one object keyed by implementation, AUC mean and sample sd over the runs", async () => {
    const r = await vigil("anomaly", "eval", FIXTURE, "--seeds", "3", "--trees", "50", "--json");
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    const j = JSON.parse(r.out[0] as string) as Record<string, { auc_mean: number; auc_sd: number; aucs: number[]; runs: number }>;
    expect(Object.keys(j)).toEqual(["native", "ml-isolation-forest"]);
    for (const impl of ["native", "ml-isolation-forest"]) {
      const v = j[impl] as { auc_mean: number; auc_sd: number; aucs: number[]; runs: number };
      expect(v.runs).toBe(3);
      expect(v.aucs).toHaveLength(3);
      const { mean, sd } = meanSd(v.aucs);
      expect(v.auc_mean).toBeCloseTo(mean, 12);
      expect(v.auc_sd).toBeCloseTo(sd, 12);
      // Uniform outliers around two tight clusters: both forests rank them high.
      expect(v.auc_mean).toBeGreaterThan(0.9);
    }
    // Seeds 1…3 differ from one another (sd > 0) yet repeat exactly from one call to the next.
    const again = JSON.parse((await vigil("anomaly", "eval", FIXTURE, "--seeds", "3", "--trees", "50", "--json", "--impl", "native")).out[0] as string) as typeof j;
    expect(again.native?.aucs).toEqual(j.native?.aucs);
    expect(j.native?.auc_sd).toBeGreaterThan(0);
  });

  test("a text table by default; --label names the column", async () => {
    const r = await vigil("anomaly", "eval", FIXTURE, "--seeds", "2", "--label", "label", "--impl", "native");
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain("400 rows, 3 features, 20 anomalies (5.00%)");
    expect(r.out[2]).toMatch(/^native\s+0\.\d{4} ± 0\.\d{4}/);
  });

  test("bad input: a clear error, exit 1", async () => {
    const missing = await vigil("anomaly", "eval", FIXTURE, "--label", "nope");
    expect(missing.code).toBe(1);
    expect(missing.err.join("\n")).toMatch(/E_CSV_COLUMN: .*no column named "nope"/);
    const bad = join(tmp, "bad.csv");
    writeFileSync(bad, "a,b,label\n1,2,0\n3,x,1\n");
    const r = await vigil("anomaly", "eval", bad);
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toMatch(/E_CSV_NUMBER: .*bad\.csv:3: column b: "x" is not a number/);
    const one = join(tmp, "one-class.csv");
    writeFileSync(one, "a,label\n1,0\n2,0\n");
    expect((await vigil("anomaly", "eval", one)).err.join("\n")).toMatch(/both 0s and 1s/);
    expect((await vigil("anomaly", "eval", FIXTURE, "--seeds", "0")).code).toBe(2);
  });
});

describe("vigil anomaly train / score", () => {
  test("a table model: trained, stored as versions, scored; same seed and data, same scores", async () => {
    const store = join(tmp, "store");
    const t1 = await vigil("anomaly", "train", FIXTURE, "--label", "label", "--name", "synth", "--store", store, "--seed", "7");
    expect(t1.code).toBe(0);
    expect(t1.err[0]).toMatch(/^trained synth v1: 400 rows, 3 features, 100 trees, ψ = 256, seed 7/);
    expect((await vigil("anomaly", "train", FIXTURE, "--label", "label", "--name", "synth", "--store", store, "--seed", "7")).err[0]).toMatch(/synth v2/);
    const model = join(tmp, "m.json");
    expect((await vigil("anomaly", "train", FIXTURE, "--label", "label", "--model", model, "--seed", "7")).code).toBe(0);
    const stored = JSON.parse(readFileSync(join(store, "synth", "v000002.json"), "utf8")) as { version: number; training: { rows: number; source: string } };
    expect(stored.version).toBe(2);
    expect(stored.training).toMatchObject({ rows: 400, source: FIXTURE });

    const a = await vigil("anomaly", "score", FIXTURE, "--label", "label", "--model", model);
    const b = await vigil("anomaly", "score", FIXTURE, "--label", "label", "--store", store, "--name", "synth", "--version", "1");
    expect(a.code).toBe(0);
    expect(a.out).toHaveLength(400);
    expect(b.out).toEqual(a.out);
    const rows = a.out.map((l) => JSON.parse(l) as { row: number; raw: number; score: number });
    // The injected anomalies (every 20th row from the 8th) hold the highest calibrated scores.
    const top = [...rows].sort((x, y) => y.raw - x.raw).slice(0, 15).map((r) => r.row);
    expect(top.filter((row) => (row - 1) % 20 === 7).length).toBeGreaterThanOrEqual(13);
    const above = await vigil("anomaly", "score", FIXTURE, "--label", "label", "--model", model, "--above", "0.99");
    expect(above.out.length).toBeGreaterThan(0);
    expect(above.out.length).toBeLessThan(20);
  });

  test("an event model from a definition file, with window features", async () => {
    const spec = join(tmp, "spec.json");
    writeFileSync(
      spec,
      JSON.stringify({
        name: "logins",
        features: [
          { name: "hour", kind: "hour_of_day" },
          { name: "country", kind: "category", field: "source.geo.country_iso_code", encoding: "frequency" },
          { name: "per_min", kind: "window", agg: "count", by: ["user.name"], window: "1m" },
          { name: "ips", kind: "window", agg: "distinct", field: "source.ip", by: ["user.name"], window: "1m" },
        ],
        trees: 50,
      }),
    );
    const lines: string[] = [];
    const t0 = Date.UTC(2024, 0, 1, 9);
    // Five users, a few logins a minute each from one of two addresses, mostly from France.
    // (A feature constant over the baseline is never split on, so it cannot flag anything:
    // the baseline must vary where anomalies are to be seen.)
    for (let i = 0; i < 600; i++) {
      const u = (i * 7) % 5;
      lines.push(
        JSON.stringify({ "@timestamp": new Date(t0 + i * 10_000).toISOString(), "event.id": `n${i}`, "user.name": `u${u}`, "source.ip": `10.0.${u}.${i % 2}`, "source.geo.country_iso_code": i % 10 === 3 ? "DE" : "FR" }),
      );
    }
    const history = join(tmp, "history.jsonl");
    writeFileSync(history, lines.join("\n") + "\n");
    const model = join(tmp, "logins.json");
    const t = await vigil("anomaly", "train", history, "--spec", spec, "--model", model, "--format", "json");
    expect(t.err.join("\n")).toMatch(/trained logins v1: 600 rows, 5 features/);
    const probe = join(tmp, "probe.jsonl");
    const burst = Array.from({ length: 12 }, (_, k) =>
      JSON.stringify({ "@timestamp": new Date(t0 + 400 * 10_000 + k * 1000).toISOString(), "event.id": `b${k}`, "user.name": "mallory", "source.ip": `203.0.113.${k}`, "source.geo.country_iso_code": "KP" }),
    );
    writeFileSync(probe, [lines[100], ...burst].join("\n") + "\n");
    const s = await vigil("anomaly", "score", probe, "--model", model, "--format", "json");
    expect(s.code).toBe(0);
    const scores = s.out.map((l) => JSON.parse(l) as { id: string; score: number });
    expect(scores[0]?.id).toBe("n100");
    expect(scores[0]?.score).toBeLessThan(0.99);
    // The burst's 12th login (12 a minute, 12 addresses, a country never seen) is rarer than
    // 95% of the baseline. (A forest cannot extrapolate: a value beyond the baseline's range
    // isolates like the baseline's own extremes, so the score saturates below 1.)
    const last = scores[scores.length - 1]?.score ?? 0;
    expect(last).toBeGreaterThan(0.95);
    expect(last).toBeGreaterThan(scores[0]?.score ?? 1);

    const badSpec = join(tmp, "bad-spec.json");
    writeFileSync(badSpec, JSON.stringify({ name: "x", features: [{ name: "w", kind: "window", agg: "avg", by: ["u"], window: "1m" }] }));
    const bad = await vigil("anomaly", "train", history, "--spec", badSpec, "--model", join(tmp, "x.json"));
    expect(bad.code).toBe(1);
    expect(bad.err.join("\n")).toMatch(/features\[0\]: "agg" must be "count", "distinct" or "sum"/);
  });
});

describe("vigil anomaly train --nats-url (real NATS JetStream)", () => {
  test("trains on a time range of the events stream", async () => {
    const nc = await connect({ servers: natsUrl() });
    const stream = uniqueName("TRAIN").toUpperCase();
    const subject = uniqueName("train");
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
    try {
      const js = jetstream(nc);
      const t0 = Date.UTC(2024, 0, 1);
      for (let i = 0; i < 200; i++) await js.publish(`${subject}.net.network`, JSON.stringify({ "@timestamp": new Date(t0 + i * 60_000).toISOString(), bytes: 100 + (i % 13) }));
      const spec = join(tmp, "net.json");
      writeFileSync(spec, JSON.stringify({ name: "net", features: [{ name: "bytes", kind: "numeric", field: "bytes" }] }));
      const store = join(tmp, "nats-store");
      const r = await vigil("anomaly", "train", "--spec", spec, "--nats-url", natsUrl(), "--stream", stream, "--from", new Date(t0 + 50 * 60_000).toISOString(), "--to", new Date(t0 + 150 * 60_000).toISOString(), "--store", store);
      expect(r.code).toBe(0);
      expect(r.err.join("\n")).toMatch(/200 messages, 100 events in range, 0 undecodable[\s\S]*trained net v1: 100 rows, 1 features/);
      const stored = JSON.parse(readFileSync(join(store, "net", "v000001.json"), "utf8")) as { training: { from: string; to: string; source: string } };
      expect(stored.training).toMatchObject({ from: new Date(t0 + 50 * 60_000).toISOString(), to: new Date(t0 + 149 * 60_000).toISOString(), source: `${natsUrl()} stream ${stream}` });
    } finally {
      await jsm.streams.delete(stream);
      await nc.close();
    }
  });
});
