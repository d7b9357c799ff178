#!/usr/bin/env node
// Real-data acceptance for automated response (needs ../shared/data and Redis; skipped, with
// a note, where either is absent). Replays loghub's OpenSSH_2k.log through the engine and the
// shipped rules into an in-memory store and the Redis responder, twice:
// 1. every address ssh_bruteforce alerts on is in the Redis block set with an expiry of one
//    hour from the wall clock — except the one we allowlist, which is never blocked;
// 2. the second replay performs no action again (ledger and Redis unchanged).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const shared = process.env.VIGIL_SHARED_DATA ?? join(root, "../shared/data");
const log = join(shared, "auth/OpenSSH_2k.log");
if (!existsSync(log)) {
  console.log(`skipped: ${log} not found (the real-data checks need ../shared/data)`);
  process.exit(0);
}
if (!existsSync(join(root, "dist/connectors/responders/index.js")))
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
const load = (p) => import(pathToFileURL(join(root, "dist", p)).href);
const { createResponse, parseResponseConfig } = await load("connectors/responders/index.js");
const { openStore } = await load("connectors/store/open.js");
const { readLogEvents } = await load("connectors/sources/log-file.js");
const { loadPack } = await load("dsl/index.js");
const { Engine } = await load("engine/index.js");
const { Redis } = await import("ioredis");

const redisUrl = process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
try {
  await redis.connect();
} catch (err) {
  console.log(`skipped: Redis at ${redisUrl} is not reachable (${err.message})`);
  process.exit(0);
}

let failed = 0;
let passed = 0;
function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail === "" ? "" : `\n     ${detail}`}`);
}

const pack = loadPack([
  { path: "rules/auth.vigil", text: readFileSync(join(root, "rules/auth.vigil"), "utf8") },
]);
async function alertsOf() {
  const alerts = [];
  const engine = new Engine(pack, { onAlert: (a) => alerts.push(a) });
  await readLogEvents(
    log,
    { format: "auto", year: 2024 },
    0,
    (ev) => engine.process(ev),
    () => undefined,
    { lines: 0, events: 0, failures: new Map() },
  );
  engine.finish();
  return alerts;
}

const prefix = `vigil_accept_${process.pid}_${Date.now()}:`;
const store = await openStore({ databaseUrl: "memory://" });
try {
  const first = await alertsOf();
  const brute = first.filter((a) => a.rule === "ssh_bruteforce");
  const attackers = [
    ...new Set(
      brute
        .map((a) => a.actions.find((x) => x.action === "block_ip")?.args.ip)
        .filter((ip) => typeof ip === "string"),
    ),
  ].sort();
  const allowlisted = attackers[0];
  const cfg = parseResponseConfig(
    { redis: { prefix }, allowlist: { addresses: allowlisted === undefined ? [] : [allowlisted] } },
    { REDIS_URL: redisUrl },
  );
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
  const rt = await createResponse(cfg.value, { store });
  if (!rt.ok) throw new Error(rt.error.message);
  const before = Date.now();
  await store.write(first, []);
  await rt.value.dispatcher.dispatch(first);
  await rt.value.dispatcher.drain();
  const after = Date.now();
  const zset = await redis.zrange(`${prefix}blocked-ips`, 0, -1, "WITHSCORES");
  const members = [];
  const badScores = [];
  for (let i = 0; i < zset.length; i += 2) {
    members.push(zset[i]);
    const s = Number(zset[i + 1]);
    if (s < before + 3_600_000 || s > after + 3_600_000) badScores.push(`${zset[i]} ${s}`);
  }
  members.sort();
  const expected = attackers.filter((a) => a !== allowlisted);
  check(
    `OpenSSH_2k.log: ${brute.length} ssh_bruteforce alerts on ${attackers.length} addresses; all but the allowlisted one (${allowlisted}) are in the Redis block set`,
    attackers.length > 1 && JSON.stringify(members) === JSON.stringify(expected),
    `blocked ${JSON.stringify(members)}\n     expected ${JSON.stringify(expected)}`,
  );
  check(
    "each block expires one hour after it was taken, on the wall clock (not in 2024)",
    badScores.length === 0,
    badScores.join(", "),
  );
  const ledger = await store.actions.list({}, 1000);
  // Other rules of the packs block too; this check is about ssh_bruteforce's alerts.
  const bruteIds = new Set(brute.map((a) => a.id));
  const blocks = ledger.filter((a) => a.action === "block_ip" && bruteIds.has(a.alert_id));
  check(
    `one block_ip action per ssh_bruteforce alert (${blocks.length}), the allowlisted address's skipped`,
    blocks.length === brute.length &&
      blocks
        .filter((a) => a.status === "skipped")
        .every((a) => a.args.ip === allowlisted && /allowlisted/.test(a.reason)),
  );

  const second = await alertsOf();
  await store.write(second, []);
  await rt.value.dispatcher.dispatch(second);
  await rt.value.dispatcher.drain();
  const ledger2 = await store.actions.list({}, 1000);
  const zset2 = await redis.zrange(`${prefix}blocked-ips`, 0, -1, "WITHSCORES");
  check(
    "replaying the log again performs no action twice (ledger and Redis unchanged)",
    ledger2.length === ledger.length && JSON.stringify(zset2) === JSON.stringify(zset),
    `${ledger.length} → ${ledger2.length} actions`,
  );
  await rt.value.close();
} finally {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await store.close();
}
console.log(`acceptance-respond: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
