import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropInfluxDatabase, influxQuery, influxUrl, uniqueName } from "../../test/support/services.js";
import { MEASUREMENTS } from "./aggregate.js";
import { createInfluxWriter } from "./writer.js";

interface Target {
  readonly query: string;
  readonly rawQuery: boolean;
}
interface Dashboard {
  readonly panels: readonly { readonly title: string; readonly targets: readonly Target[] }[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly query: string }[] };
}

const dashboard = JSON.parse(readFileSync(new URL("../../docs/grafana-dashboard.json", import.meta.url), "utf8")) as Dashboard;

/** What Grafana substitutes before sending a query, for "All" in every variable. */
function expand(q: string): string {
  return q
    .replaceAll("$timeFilter", "time > now() - 1h")
    .replaceAll("$__interval_ms", "10000")
    .replaceAll("$__interval", "10s")
    .replace(/\/\^\$\w+\$\//g, "/^.*$/");
}

describe("docs/grafana-dashboard.json on the real InfluxDB", () => {
  const db = uniqueName("influx_dash");

  beforeAll(async () => {
    const w = createInfluxWriter({ url: influxUrl(), database: db, intervalMs: 60_000, logger: { info() {}, warn() {}, error() {} } });
    w.countEvent("sshd", "authentication");
    w.countAlert("ssh_bruteforce", "high");
    w.anomalyScore("logins", "alice", 0.8);
    w.kpis({ from: "a", to: "b", incidents: 2, alerts: 5, mttd_ms: 1000, mttd_excluded: 0, mttr_contain_ms: 2000, mttr_resolve_ms: 3000, false_positive_rate: 0.1, coverage: { expected: 2, seen: 1, ratio: 0.5, missing: ["api"] } });
    expect(await w.flush()).toBe(true);
    await w.close();
  });
  afterAll(() => dropInfluxDatabase(db));

  it("uses only Vigil's measurements", () => {
    const known = new Set<string>(Object.values(MEASUREMENTS));
    const queries = [...dashboard.panels.flatMap((p) => p.targets.map((t) => t.query)), ...dashboard.templating.list.map((v) => v.query)];
    expect(queries.length).toBeGreaterThan(10);
    for (const q of queries) {
      const used = [...q.matchAll(/FROM "([^"]+)"/g)].map((m) => m[1]);
      expect(used.length, q).toBeGreaterThan(0);
      for (const m of used) expect(known.has(m as string), `${m} in ${q}`).toBe(true);
    }
  });

  it("every panel query and variable query runs and finds the data the writer wrote", async () => {
    for (const p of dashboard.panels) {
      for (const t of p.targets) {
        expect(t.rawQuery).toBe(true);
        const [r] = await influxQuery(expand(t.query), { db });
        expect(r?.series?.length ?? 0, `${p.title}: ${t.query}`).toBeGreaterThan(0);
      }
    }
    for (const v of dashboard.templating.list) {
      const [r] = await influxQuery(v.query, { db });
      expect(r?.series?.[0]?.values?.length ?? 0, v.query).toBeGreaterThan(0);
    }
  });
});
