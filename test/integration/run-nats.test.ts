/**
 * `vigil run` on the real NATS JetStream server: the same alerts as `vigil replay`,
 * malformed messages in the dead-letter stream, and a restart that continues from the
 * checkpoint without losing or duplicating an alert.
 */
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { topologyForPrefix, type Topology } from "../../connectors/nats/topology.js";
import { commandTopologyForPrefix } from "../../connectors/responders/nats.js";
import { main } from "../../cli/main.js";
import type { Io } from "../../cli/io.js";
import { natsUrl, uniqueName, withPgDatabase } from "../support/services.js";

const SAMPLE = "examples/auth.log";

function capture(): Io & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (l) => lines.push(l), err: (l) => errs.push(l) };
}

interface AlertLine {
  id: string;
  rule: string;
  keys: Record<string, unknown>;
  count: number;
  first_event_at: string;
  last_event_at: string;
  fired_at: string;
  type?: string;
}

const essentials = (lines: string[]) =>
  lines
    .map((l) => JSON.parse(l) as AlertLine)
    .filter((a) => a.type === undefined)
    .map((a) => JSON.stringify([a.id, a.rule, a.keys, a.count, a.first_event_at, a.last_event_at, a.fired_at]))
    .sort();

let nc: NatsConnection;
let jsm: JetStreamManager;
const topologies: Topology[] = [];

function useTopology(): Topology {
  const prefix = uniqueName("vt");
  process.env.VIGIL_NATS_PREFIX = prefix;
  process.env.NATS_URL = natsUrl();
  process.env.VIGIL_STORE = "false"; // alerts only: the store follows the alerts stream (run-store.test.ts)
  process.env.VIGIL_API_ENABLED = "false";
  const t = topologyForPrefix(prefix);
  topologies.push(t);
  return t;
}

beforeAll(async () => {
  nc = await connect({ servers: natsUrl() });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  for (const t of topologies) {
    // The responders' commands stream follows the job's prefix.
    const commands = commandTopologyForPrefix(t.eventsSubject.replace(/\.events$/, "")).stream;
    for (const s of [t.eventsStream, t.alertsStream, t.deadLetterStream, commands]) await jsm.streams.delete(s).catch(() => undefined);
    await (await new Kvm(nc).open(t.checkpointBucket).catch(() => undefined))?.destroy().catch(() => undefined);
  }
  await nc.close();
  delete process.env.VIGIL_NATS_PREFIX;
  delete process.env.NATS_URL;
  delete process.env.VIGIL_STORE;
  delete process.env.VIGIL_API_ENABLED;
});

async function alertIdsInStream(t: Topology): Promise<string[]> {
  const info = await jsm.streams.info(t.alertsStream);
  const ids: string[] = [];
  const js = jetstream(nc);
  for (let seq = 1; seq <= info.state.last_seq; seq++) {
    const m = await js.streams.get(t.alertsStream).then((s) => s.getMessage({ seq }));
    if (m === null || m.header.get("Vigil-Update") === "suppressed") continue;
    ids.push((m.json<AlertLine>()).id);
  }
  return ids;
}

describe("vigil run on JetStream", () => {
  test("publish then run gives the same alerts as replay, and a second run adds none", async () => {
    const t = useTopology();
    const pub = capture();
    expect(await main(["publish", SAMPLE, "--year", "2024"], pub)).toBe(0);
    const published = /published (\d+) events from 5000 lines/.exec(pub.errs.join("\n"))?.[1];
    expect(Number(published)).toBeGreaterThan(5000);

    const run = capture();
    expect(await main(["run", "--stop-when-idle", "800"], run)).toBe(0);
    delete process.env.NATS_URL;
    const replay = capture();
    expect(await main(["replay", SAMPLE, "--year", "2024"], replay)).toBe(0);
    process.env.NATS_URL = natsUrl();

    expect(essentials(run.lines).length).toBeGreaterThan(10);
    expect(essentials(run.lines)).toEqual(essentials(replay.lines));
    const ids = await alertIdsInStream(t);
    expect(ids.sort()).toEqual(replay.lines.map((l) => (JSON.parse(l) as AlertLine).id).sort());

    // Publishing the same file again stores nothing new (event ids are message ids), and a
    // restarted run starts after its checkpoint: no alert twice.
    const again = capture();
    expect(await main(["publish", SAMPLE, "--year", "2024"], again)).toBe(0);
    expect(again.errs.join("\n")).toContain(`(${published ?? "?"} already in the stream)`);
    const rerun = capture();
    expect(await main(["run", "--stop-when-idle", "500"], rerun)).toBe(0);
    expect(essentials(rerun.lines)).toEqual([]);
    expect((await alertIdsInStream(t)).length).toBe(ids.length);
  });

  test("malformed messages go to the dead-letter stream with their reason; good ones around them are processed", async () => {
    const t = useTopology();
    const js = jetstream(nc);
    const run0 = capture();
    // provision the streams (a run on an empty stream stops when idle)
    expect(await main(["run", "--stop-when-idle", "300"], run0)).toBe(0);
    const good = (i: number) => JSON.stringify({ "@timestamp": new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), "event.id": `g${i}`, "event.category": "authentication", "event.outcome": "failure", "event.type": "start", "service.name": "sshd", "source.address": "192.0.2.77", "source.ip": "192.0.2.77" });
    const subject = `${t.eventsSubject}.sshd.authentication`;
    const future = JSON.stringify({ "@timestamp": new Date(Date.now() + 86_400_000).toISOString(), "event.id": "late" });
    const bad: [string, string][] = [
      ["{not json", "invalid_json"],
      ["[1,2]", "not_an_object"],
      ['{"message":"no time"}', "missing_timestamp"],
      [future, "future_timestamp"],
    ];
    await js.publish(subject, good(1));
    await js.publish(subject, good(2));
    for (const [data] of bad) await js.publish(subject, data);
    await js.publish(subject, `${good(3)}\n${good(4)}\n{broken`);
    // Oversized (the limit is set to 4 KiB below) and not UTF-8.
    await js.publish(subject, JSON.stringify({ "@timestamp": "2024-01-01T00:00:03Z", message: "x".repeat(5000) }));
    await js.publish(subject, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    await js.publish(subject, good(5));
    const dir = mkdtempSync(join(tmpdir(), "vigil-cfg-"));
    const config = join(dir, "vigil.yaml");
    writeFileSync(config, "nats:\n  max_message_bytes: 4096\n");
    const run = capture();
    expect(await main(["run", "--config", config, "--stop-when-idle", "800"], run)).toBe(0);
    rmSync(dir, { recursive: true });
    const alerts = essentials(run.lines).map((l) => JSON.parse(l) as unknown[]);
    expect(alerts.map((a) => a[1])).toEqual(["ssh_bruteforce"]);
    expect(alerts[0]?.[3]).toBe(5);

    const info = await jsm.streams.info(t.deadLetterStream);
    const reasons: string[] = [];
    const stream = await js.streams.get(t.deadLetterStream);
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await stream.getMessage({ seq });
      if (m === null) continue;
      reasons.push(m.header.get("Vigil-Reason"));
      expect(m.header.get("Vigil-Origin-Subject")).toBe(subject);
    }
    expect(reasons.sort()).toEqual(["future_timestamp", "invalid_json", "invalid_json", "invalid_utf8", "missing_timestamp", "not_an_object", "too_large"]);
  });

  test("the first start on a fresh prefix, with the store following the alerts stream, provisions and runs", async () => {
    useTopology();
    const db = await withPgDatabase();
    process.env.DATABASE_URL = db.url;
    process.env.VIGIL_STORE = "true";
    try {
      const run = capture();
      // Before: the follower asked for the alerts stream before the worker had made it (stream not found).
      expect(await main(["run", "--stop-when-idle", "300"], run), run.errs.join("\n")).toBe(0);
    } finally {
      process.env.VIGIL_STORE = "false";
      delete process.env.DATABASE_URL;
      await db.drop();
    }
  });

  test("a bad message near the server's max_payload is dead-lettered cut to fit (with its size), and the events after it are processed", async () => {
    const t = useTopology();
    const js = jetstream(nc);
    expect(await main(["run", "--stop-when-idle", "300"], capture())).toBe(0); // provision
    const subject = `${t.eventsSubject}.sshd.authentication`;
    const max = nc.info?.max_payload ?? 1 << 20;
    // Not JSON, just under the server's limit and the default max_message_bytes: it decodes, fails, and must go again with headers.
    const big = new Uint8Array(max - 200).fill(0x78);
    await js.publish(subject, big);
    for (let i = 1; i <= 5; i++)
      await js.publish(subject, JSON.stringify({ "@timestamp": new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), "event.id": `p${i}`, "event.category": "authentication", "event.outcome": "failure", "event.type": "start", "service.name": "sshd", "source.address": "192.0.2.78", "source.ip": "192.0.2.78" }));
    const run = capture();
    expect(await main(["run", "--stop-when-idle", "800"], run), run.errs.join("\n")).toBe(0);
    expect(essentials(run.lines).map((l) => (JSON.parse(l) as unknown[])[1])).toEqual(["ssh_bruteforce"]);
    const stream = await js.streams.get(t.deadLetterStream);
    const m = await stream.getMessage({ seq: 1 });
    expect(m?.header.get("Vigil-Reason")).toBe("invalid_json");
    expect(m?.header.get("Vigil-Truncated")).toBe(String(max - 200));
    expect(m?.data.length).toBeLessThan(max - 200);
  });
});
