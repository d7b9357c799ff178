/**
 * Automated response end to end on the real servers: an SSH brute force read from a log,
 * through the engine and the shipped rules, into the incident store (PostgreSQL), and out
 * through the Redis and NATS responders. Checks the Redis block set (members and expiry on
 * the wall clock), the commands on JetStream, the actions on the incident and in the audit
 * log, that an allowlisted attacker is never blocked, that replaying the same stream twice
 * acts once, and that the blocks are lifted when they expire — across a restart.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseResponseConfig } from "../../connectors/responders/config.js";
import { ruleSourcesFromPack } from "../../connectors/responders/evidence.js";
import { createResponse, type ResponseRuntime } from "../../connectors/responders/index.js";
import { readLogEvents } from "../../connectors/sources/log-file.js";
import { openStore } from "../../connectors/store/open.js";
import { runReplay } from "../../cli/commands/replay.js";
import { loadPack } from "../../dsl/index.js";
import { type Alert, Engine } from "../../engine/index.js";
import { natsUrl, redisUrl, uniqueName, withPgDatabase, type PgDatabase } from "../support/services.js";

const ATTACKER = "203.0.113.66";
const ALLOWLISTED = "198.51.100.23";
const PACK = [{ path: "rules/auth.vigil", text: readFileSync("rules/auth.vigil", "utf8") }];

let db: PgDatabase;
let store: Awaited<ReturnType<typeof openStore>>;
let nc: NatsConnection;
let jsm: JetStreamManager;
let redis: Redis;
const redisPrefix = `${uniqueName("vigil_e2e")}:`;
const natsPrefix = uniqueName("ve2e");
let logFile: string;
/** Wall clock of Vigil, shifted in the reversal test. */
let shift = 0;
const clock = () => Date.now() + shift;

beforeAll(async () => {
  db = await withPgDatabase();
  store = await openStore({ databaseUrl: db.url });
  nc = await connect({ servers: natsUrl() });
  jsm = await jetstreamManager(nc);
  redis = new Redis(redisUrl());
  const dir = mkdtempSync(join(tmpdir(), "vigil-e2e-"));
  logFile = join(dir, "auth.log");
  const lines: string[] = [];
  for (let i = 0; i < 6; i++) {
    for (const [ip, pid] of [
      [ATTACKER, 4100],
      [ALLOWLISTED, 4200],
    ] as const) {
      lines.push(
        `Mar  3 10:0${i}:0${i} bastion sshd[${pid + i}]: Failed password for root from ${ip} port ${40000 + i} ssh2`,
      );
    }
  }
  lines.push(
    `Mar  3 10:07:00 bastion sshd[4300]: Accepted publickey for deploy from 192.0.2.5 port 50000 ssh2`,
  );
  writeFileSync(logFile, `${lines.join("\n")}\n`);
});

afterAll(async () => {
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await jsm.streams.delete(`${natsPrefix.toUpperCase()}_COMMANDS`).catch(() => undefined);
  await nc.close();
  await store.close();
  await db.drop();
});

async function runtime(): Promise<ResponseRuntime> {
  const cfg = parseResponseConfig(
    {
      redis: { prefix: redisPrefix },
      nats: { prefix: natsPrefix },
      allowlist: { addresses: [ALLOWLISTED], infrastructure: ["10.0.0.0/8"] },
      retry: { base_ms: 10 },
    },
    { REDIS_URL: redisUrl() },
  );
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
  const sources = ruleSourcesFromPack(PACK);
  const rt = await createResponse(cfg.value, {
    store,
    nats: nc,
    now: clock,
    ruleSource: (r) => sources.get(r),
  });
  if (!rt.ok) throw new Error(rt.error.message);
  return rt.value;
}

/** One pass of the pipeline over the log: engine → store → evidence, responders. */
async function replayOnce(rt: ResponseRuntime): Promise<Alert[]> {
  const alerts: Alert[] = [];
  const engine = new Engine(loadPack(PACK), { onAlert: (a) => alerts.push(a) });
  await readLogEvents(
    logFile,
    { format: "auto", year: 2025 },
    0,
    (ev) => {
      rt.evidence.observe(ev);
      engine.process(ev);
    },
    () => undefined,
    { lines: 0, events: 0, failures: new Map() },
  );
  engine.finish();
  await store.write(alerts, []);
  for (const sink of rt.sinks) await sink.write(alerts, []);
  await rt.dispatcher.drain();
  return alerts;
}

async function commands(): Promise<{ subject: string; body: Record<string, unknown> }[]> {
  const name = `${natsPrefix.toUpperCase()}_COMMANDS`;
  const info = await jsm.streams.info(name);
  const s = await jetstream(nc).streams.get(name);
  const out = [];
  for (let seq = 1; seq <= info.state.last_seq; seq++) {
    const m = await s.getMessage({ seq });
    if (m !== null) out.push({ subject: m.subject, body: m.json<Record<string, unknown>>() });
  }
  return out;
}

test("an SSH brute force: the attacker blocked in Redis for an hour from now and on NATS, recorded on the incident and in the audit log; the allowlisted address never blocked; a second replay acts once; the block lifted on expiry after a restart", async () => {
  // ---- first pass
  const rt1 = await runtime();
  const before = clock();
  const alerts = await replayOnce(rt1);
  const after = clock();
  const brute = alerts.filter((a) => a.rule === "ssh_bruteforce");
  expect(brute.map((a) => a.keys["source.address"]).sort()).toEqual([ALLOWLISTED, ATTACKER].sort());
  expect(brute[0]!.actions).toEqual(
    expect.arrayContaining([
      { action: "block_ip", mode: "enforce", args: { ip: expect.any(String) as unknown, for: 3_600_000 } },
    ]),
  );

  const members = await redis.zrange(`${redisPrefix}blocked-ips`, 0, -1, "WITHSCORES");
  expect(members[0]).toBe(ATTACKER);
  expect(members).toHaveLength(2);
  const expiry = Number(members[1]);
  expect(expiry).toBeGreaterThanOrEqual(before + 3_600_000);
  expect(expiry).toBeLessThanOrEqual(after + 3_600_000);

  const cmds = await commands();
  expect(cmds.map((c) => [c.subject, c.body.op, c.body.ip])).toEqual([
    [`${natsPrefix}.commands.firewall`, "block", ATTACKER],
  ]);
  expect(cmds[0]!.body.until).toBe(expiry);

  const attackerAlert = brute.find((a) => a.keys["source.address"] === ATTACKER)!;
  const allowAlert = brute.find((a) => a.keys["source.address"] === ALLOWLISTED)!;
  const [stored] = (await store.listAlerts({ rule: "ssh_bruteforce" }, 10, null)).items.filter(
    (a) => a.id === attackerAlert.id,
  );
  const incident = await store.getIncident(stored!.incident_id);
  expect(incident).toBeDefined();
  const onIncident = incident!.actions.map((a) => [a.action, a.status, a.args.ip ?? a.args.channel]);
  expect(onIncident).toEqual(
    expect.arrayContaining([
      ["block_ip", "done", ATTACKER],
      ["notify", "skipped", "soc"],
    ]),
  );
  const blockRec = incident!.actions.find((a) => a.action === "block_ip")!;
  expect(blockRec.reverse_at).toBe(new Date(expiry).toISOString());
  expect(blockRec.reason).toContain("redis");
  expect(blockRec.reason).toContain("nats");
  expect(incident!.events.length).toBe(5);
  expect(incident!.events.every((e) => String(e.fields["source.ip"]) === ATTACKER)).toBe(true);
  const frozen = await store.ruleVersion("ssh_bruteforce", attackerAlert.rule_version);
  expect(frozen).toContain("rule ssh_bruteforce {");
  expect(frozen).toContain('then block_ip(source.ip, for: 1h), notify("soc")');

  const allowed = (await store.actions.list({}, 100)).find(
    (a) => a.alert_id === allowAlert.id && a.action === "block_ip",
  )!;
  expect(allowed).toMatchObject({
    status: "skipped",
    reason: `allowlisted: ${ALLOWLISTED} is in the address allowlist`,
  });

  const audit = await store.audit.list(0, 1000);
  expect(audit.filter((e) => e.target === blockRec.id).map((e) => e.action)).toEqual([
    "action.claim",
    "action.done",
  ]);
  expect((await store.audit.verify()).ok).toBe(true);

  // ---- the same stream again (a replay or a redelivery): nothing is done twice
  const again = await replayOnce(rt1);
  expect(again.map((a) => a.id).sort()).toEqual(alerts.map((a) => a.id).sort());
  expect(await commands()).toHaveLength(1);
  expect(Number(await redis.zscore(`${redisPrefix}blocked-ips`, ATTACKER))).toBe(expiry);
  const ledger = await store.actions.list({}, 100);
  expect(ledger.filter((a) => a.action === "block_ip")).toHaveLength(2);
  expect((await store.audit.list(0, 1000)).filter((e) => e.target === blockRec.id)).toHaveLength(2);
  await rt1.close();

  // ---- Vigil restarts; an hour passes; the new process lifts the block
  shift = 3_600_000 + 1_000;
  const rt2 = await runtime();
  await rt2.dispatcher.tick();
  expect(await redis.zscore(`${redisPrefix}blocked-ips`, ATTACKER)).toBeNull();
  const last = (await commands()).at(-1)!;
  expect([last.subject, last.body.op, last.body.ip]).toEqual([
    `${natsPrefix}.commands.firewall`,
    "unblock",
    ATTACKER,
  ]);
  expect(await store.actions.get(blockRec.id)).toMatchObject({ status: "reversed" });
  expect(
    (await store.audit.list(0, 1000)).filter((e) => e.target === blockRec.id).map((e) => e.action),
  ).toEqual(["action.claim", "action.done", "action.reversed"]);
  await rt2.dispatcher.tick();
  expect(await commands()).toHaveLength(2);
  await rt2.close();
});

test("Redis down: the block is retried, then recorded as failed with the reason; the pipeline did not wait; NATS still got its command", async () => {
  const gone = uniqueName("ve2e_down");
  const cfg = parseResponseConfig(
    {
      redis: { url: "redis://127.0.0.1:9", prefix: redisPrefix },
      nats: { prefix: gone },
      retry: { attempts: 3, base_ms: 500, timeout_ms: 2000 },
    },
    {},
  );
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
  const made = await createResponse(cfg.value, { store, nats: nc });
  if (!made.ok) throw new Error(made.error.message);
  const rt = made.value;
  const alert: Alert = {
    id: uniqueName("alert_down"),
    rule: "ssh_bruteforce",
    rule_version: "v1",
    title: "SSH brute force from one source",
    severity: "high",
    risk: 70,
    tags: [],
    keys: { "source.address": "203.0.113.99" },
    count: 5,
    value: undefined,
    first_event_at: "2025-03-03T10:00:00.000Z",
    last_event_at: "2025-03-03T10:04:00.000Z",
    fired_at: "2025-03-03T10:04:00.000Z",
    detected_at: new Date().toISOString(),
    evidence: { event_ids: [], origins: [], truncated: 0 },
    suppressed: 0,
    actions: [{ action: "block_ip", mode: "enforce", args: { ip: "203.0.113.99", for: 3_600_000 } }],
  };
  await store.write([alert], []);
  await rt.dispatcher.dispatch([alert]);
  const [pending] = (await store.actions.list({}, 100)).filter((a) => a.alert_id === alert.id);
  // Recorded and still being tried (≥ 1.5 s of backoff ahead) while the pipeline has gone on.
  expect(pending!.status).toBe("pending");
  await rt.dispatcher.drain();
  const rec = await store.actions.get(pending!.id);
  expect(rec).toMatchObject({ status: "failed", attempts: 3 });
  expect(rec!.reason).toMatch(/^redis: redis not connected \(.*\) \(after 3 attempts\) \(done by nats\)$/);
  const audit = (await store.audit.list(0, 1000)).filter((e) => e.target === rec!.id);
  expect(audit.map((e) => e.action)).toEqual(["action.claim", "action.failed"]);
  expect(audit[1]!.details.reason).toBe(rec!.reason);
  await rt.close();
  await jsm.streams.delete(`${gone.toUpperCase()}_COMMANDS`).catch(() => undefined);
});

test("`vigil replay` never acts, even with REDIS_URL and NATS_URL set: it lists the actions it would take", async () => {
  const saved = { REDIS_URL: process.env.REDIS_URL, NATS_URL: process.env.NATS_URL };
  process.env.REDIS_URL = redisUrl();
  process.env.NATS_URL = natsUrl();
  const blockedBefore = await redis.zscore("security:blocked-ips", ATTACKER);
  const lines: string[] = [];
  try {
    expect(
      await runReplay(
        [logFile],
        { rules: "rules", format: "auto", year: 2025, showFailures: 0 },
        { out: (l) => lines.push(l), err: () => undefined },
      ),
    ).toBe(0);
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
  const brute = lines
    .map((l) => JSON.parse(l) as { rule: string; keys: Record<string, string>; would_act: unknown[] })
    .filter((a) => a.rule === "ssh_bruteforce");
  expect(brute.find((a) => a.keys["source.address"] === ATTACKER)!.would_act).toEqual([
    { action: "block_ip", mode: "enforce", args: { ip: ATTACKER, for: 3_600_000 } },
    { action: "notify", mode: "enforce", args: { channel: "soc" } },
  ]);
  expect(await redis.zscore("security:blocked-ips", ATTACKER)).toBe(blockedBefore);
});
