/**
 * Crash test: `vigil run` killed with SIGKILL at random points while it works through a large
 * stream, restarted each time; at the end the alerts stream holds exactly the alerts of an
 * uninterrupted replay — none lost, none duplicated.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { expect, test } from "vitest";
import { main } from "../../cli/main.js";
import { topologyForPrefix } from "../../connectors/nats/topology.js";
import { commandTopologyForPrefix } from "../../connectors/responders/nats.js";
import pg from "pg";
import { natsUrl, uniqueName, withPgDatabase } from "../support/services.js";

const root = join(import.meta.dirname, "../..");

async function generate(file: string, lines: number): Promise<void> {
  const gen = (await import(join(root, "bench/gen/gen-auth-log.mjs"))) as { generateAuthLog(out: string, o: object): unknown };
  gen.generateAuthLog(file, { lines, seed: 7, docAddresses: true });
}

function runFor(env: NodeJS.ProcessEnv, killAfterMs: number | undefined, sig: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const args = ["run", "--batch", "200", "--checkpoint-interval", "150", ...(killAfterMs === undefined ? ["--stop-when-idle", "1500"] : [])];
    const p = spawn(join(root, "bin/vigil.js"), args, { env, stdio: ["ignore", "ignore", "pipe"] });
    p.on("error", reject);
    p.on("exit", (code) => resolve(code));
    if (killAfterMs === undefined) return void p.stderr.resume();
    if (sig === "SIGKILL") {
      p.stderr.resume();
      setTimeout(() => p.kill(sig), killAfterMs);
      return;
    }
    // A drain needs the job to be running: count from its first log line.
    let armed = false;
    p.stderr.on("data", (chunk: Buffer) => {
      if (!armed && chunk.toString().includes("restored checkpoint")) {
        armed = true;
        setTimeout(() => p.kill(sig), killAfterMs);
      }
    });
  });
}

async function interruptAndCompare(sig: NodeJS.Signals): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-crash-"));
  const file = join(dir, "auth.log");
  const prefix = uniqueName("vc");
  const t = topologyForPrefix(prefix);
  const db = await withPgDatabase();
  // The incident store on PostgreSQL follows the alerts stream; no API (tests run side by side).
  const env = { ...process.env, NATS_URL: natsUrl(), VIGIL_NATS_PREFIX: prefix, DATABASE_URL: db.url, VIGIL_API_ENABLED: "false" };
  const nc = await connect({ servers: natsUrl() });
  try {
    await generate(file, 40_000);
    process.env.NATS_URL = natsUrl();
    process.env.VIGIL_NATS_PREFIX = prefix;
    const quiet = { out: () => undefined, err: () => undefined };
    expect(await main(["publish", file, "--year", "2024"], quiet)).toBe(0);

    const kills = [400 + Math.floor(Math.random() * 600), 700 + Math.floor(Math.random() * 900), 500 + Math.floor(Math.random() * 1500)];
    for (const ms of kills) {
      // SIGKILL: killed, no exit code. SIGTERM: drained (finish the batch, checkpoint, ack) and exited 0.
      const t0 = Date.now();
      expect(await runFor(env, ms, sig)).toBe(sig === "SIGKILL" ? null : 0);
      if (sig === "SIGTERM") expect(Date.now() - t0).toBeLessThan(ms + 10_000);
    }
    expect(await runFor(env, undefined)).toBe(0);

    delete process.env.NATS_URL;
    const replayed: string[] = [];
    expect(await main(["replay", file, "--year", "2024"], { out: (l) => replayed.push(l), err: () => undefined })).toBe(0);
    const expected = replayed.map((l) => (JSON.parse(l) as { id: string }).id).sort();

    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(t.alertsStream);
    const stream = await jetstream(nc).streams.get(t.alertsStream);
    const got: string[] = [];
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await stream.getMessage({ seq });
      if (m !== null && m.header.get("Vigil-Update") !== "suppressed") got.push(m.json<{ id: string }>().id);
    }
    expect(expected.length).toBeGreaterThan(100);
    expect(got.sort()).toEqual(expected);
    const checkpoint = await (await new Kvm(nc).open(t.checkpointBucket)).get(t.consumer);
    expect(checkpoint).not.toBeNull();
    // The incident store holds every alert once, each in an incident.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const rows = await client.query<{ id: string; incident_id: string | null }>("SELECT id, incident_id FROM alerts ORDER BY id");
      expect(rows.rows.map((r) => r.id)).toEqual(expected);
      expect(rows.rows.every((r) => r.incident_id !== null)).toBe(true);
      const incidents = await client.query<{ n: string }>("SELECT count(*)::text AS n FROM incidents");
      expect(Number(incidents.rows[0]?.n)).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  } finally {
    delete process.env.NATS_URL;
    delete process.env.VIGIL_NATS_PREFIX;
    const jsm = await jetstreamManager(nc);
    for (const s of [t.eventsStream, t.alertsStream, t.deadLetterStream, commandTopologyForPrefix(prefix).stream]) await jsm.streams.delete(s).catch(() => undefined);
    await (await new Kvm(nc).open(t.checkpointBucket).catch(() => undefined))?.destroy().catch(() => undefined);
    await nc.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("kill -9 at random points and restart: every alert once", { timeout: 180_000 }, () => interruptAndCompare("SIGKILL"));

test("SIGTERM drains within the shutdown timeout; restarts continue: every alert once", { timeout: 180_000 }, () => interruptAndCompare("SIGTERM"));
