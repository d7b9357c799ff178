#!/usr/bin/env node
// Real-data acceptance checks, run by .ci/run after the tests: they need ../shared/data
// (not part of a user's clone; skipped, with a note, where it is absent) and the built CLI.
//
// 1. OpenSSH_2k.log: `vigil replay` alerts on the same source addresses that fail2ban's
//    stock sshd jail (maxretry 5, findtime 10m) bans when it replays the log in log time
//    (scripts/fail2ban/replay.py drives fail2ban's own classes). Every difference must be
//    one we explain: an address Vigil alone flags must owe it to failures fail2ban cannot
//    see (`message repeated N times: [ Failed … ]` lines, which fail2ban does not count).
// 2. Linux_2k.log: the legacy RedHat `sshd(pam_unix)[pid]: authentication failure` lines,
//    which neither fail2ban nor sshguard recognise, yield brute-force alerts.
// 3. OpenSSH_2k.log through the main job: `vigil publish` into JetStream then `vigil run`
//    (the real NATS server; NATS_URL, else :4222), and `vigil run --input` on the embedded
//    default, each raise exactly the alerts `vigil replay` raises: same ids, rules, keys,
//    counts and event times.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const shared = process.env.VIGIL_SHARED_DATA ?? join(root, "../shared/data");
let failed = 0;
let passed = 0;

function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail === "" ? "" : `\n     ${detail.replace(/\n/g, "\n     ")}`}`);
}

function replay(file, extra = []) {
  const r = spawnSync(process.execPath, [join(root, "bin/vigil.js"), "replay", "--rules", join(root, "rules"), ...extra, file], { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`vigil replay ${file} exited ${r.status}: ${r.stderr}`);
  return { alerts: r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)), summary: r.stderr };
}

if (!existsSync(join(root, "dist/cli/main.js"))) execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });

const openssh = join(shared, "auth/OpenSSH_2k.log");
const linux = join(shared, "auth/Linux_2k.log");
if (!existsSync(openssh) || !existsSync(linux)) {
  console.log(`skipped: ${shared}/auth not found (the real-data checks need ../shared/data)`);
  process.exit(0);
}

// ---- 1. OpenSSH_2k.log against fail2ban --------------------------------------------
{
  const year = "2024";
  const { alerts, summary } = replay(openssh, ["--year", year]);
  const brute = alerts.filter((a) => a.rule === "ssh_bruteforce");
  const vigil = new Set(brute.map((a) => a.keys["source.address"]));
  check("OpenSSH_2k.log: every line decodes", /0 undecodable lines/.test(summary), summary.split("\n")[0]);

  const py = ["/usr/bin/python3", "python3"].find((p) => spawnSync(p, ["-c", "import sys; sys.path.append('/usr/lib/python3/dist-packages'); import fail2ban"]).status === 0);
  if (py === undefined) {
    check("fail2ban is installed (apt-get install fail2ban; scripts/setup.sh does it)", false);
  } else {
    const out = execFileSync(py, [join(root, "scripts/fail2ban/replay.py"), openssh, "--year", year], { encoding: "utf8", maxBuffer: 1 << 26 });
    const f2b = new Set(JSON.parse(out).banned.map((b) => b.ip));
    const onlyF2b = [...f2b].filter((ip) => !vigil.has(ip)).sort();
    const onlyVigil = [...vigil].filter((ip) => !f2b.has(ip)).sort();
    check(
      `OpenSSH_2k.log: every address fail2ban bans is flagged by ssh_bruteforce (${f2b.size} banned)`,
      onlyF2b.length === 0,
      onlyF2b.length === 0 ? "" : `missed: ${onlyF2b.join(", ")}`,
    );
    const text = readFileSync(openssh, "utf8");
    const unexplained = onlyVigil.filter((ip) => !new RegExp(`message repeated \\d+ times: \\[ ?Failed \\S+ for .* from ${ip.replace(/\./g, "\\.")} `).test(text));
    check(
      `OpenSSH_2k.log: addresses only Vigil flags owe it to 'message repeated' failures fail2ban does not count (${onlyVigil.join(", ") || "none"})`,
      unexplained.length === 0,
      unexplained.length === 0 ? "" : `unexplained: ${unexplained.join(", ")}`,
    );
    console.log(`     fail2ban bans ${f2b.size}; vigil flags ${vigil.size}; common ${[...vigil].filter((ip) => f2b.has(ip)).length}`);
  }
}

// ---- 2. Linux_2k.log legacy lines ------------------------------------------------------
{
  const { alerts } = replay(linux, ["--year", "2005"]);
  const brute = alerts.filter((a) => a.rule === "ssh_bruteforce");
  const lines = readFileSync(linux, "utf8").split("\n");
  const evidenceLines = brute.flatMap((a) => a.evidence.origins.map((o) => lines[Number(o.split(":").pop()) - 1] ?? ""));
  check(`Linux_2k.log: brute force detected in the legacy sshd(pam_unix) lines (${brute.length} alerts)`, brute.length > 0);
  check(
    "Linux_2k.log: every piece of evidence is a legacy 'sshd(pam_unix)[pid]: authentication failure' line",
    evidenceLines.length > 0 && evidenceLines.every((l) => /sshd\(pam_unix\)\[\d+\]: authentication failure;/.test(l)),
  );
  const sources = [...new Set(brute.map((a) => a.keys["source.address"]))];
  console.log(`     sources: ${sources.join(", ")}`);
}

// ---- 3. OpenSSH_2k.log through `vigil run`, on JetStream and on the embedded default --
{
  const essentials = (out) =>
    out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((a) => a.type === undefined)
      .map((a) => JSON.stringify([a.id, a.rule, a.keys, a.count, a.first_event_at, a.last_event_at, a.fired_at]))
      .sort();
  const vigil = (args, env = {}) => {
    const r = spawnSync(process.execPath, [join(root, "bin/vigil.js"), ...args], { encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`vigil ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const rules = ["--rules", join(root, "rules")];
  const expected = essentials(vigil(["replay", ...rules, "--year", "2024", openssh]));

  const embedded = essentials(vigil(["run", ...rules, "--year", "2024", "--input", openssh], { NATS_URL: "", VIGIL_STORE: "false" }));
  check(`OpenSSH_2k.log: the embedded \`vigil run --input\` raises the alerts replay raises (${embedded.length} vs ${expected.length})`, expected.length > 0 && JSON.stringify(embedded) === JSON.stringify(expected));

  const natsUrl = process.env.NATS_URL || "nats://127.0.0.1:4222";
  const prefix = `acc_${process.pid}_${Date.now().toString(36)}`;
  const env = { NATS_URL: natsUrl, VIGIL_NATS_PREFIX: prefix, VIGIL_STORE: "false", VIGIL_API_ENABLED: "false" };
  try {
    vigil(["publish", "--year", "2024", openssh], env);
    const viaNats = essentials(vigil(["run", ...rules, "--stop-when-idle", "2000"], env));
    check(`OpenSSH_2k.log: \`vigil publish\` + \`vigil run\` on JetStream raise the alerts replay raises (${viaNats.length} vs ${expected.length})`, JSON.stringify(viaNats) === JSON.stringify(expected));
    const again = essentials(vigil(["run", ...rules, "--stop-when-idle", "1000"], env));
    check("OpenSSH_2k.log: a second run on the same stream adds no alert", again.length === 0, `${again.length} alerts`);
  } finally {
    const { connect } = await import("@nats-io/transport-node");
    const { jetstreamManager } = await import("@nats-io/jetstream");
    const { Kvm } = await import("@nats-io/kv");
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    const up = prefix.toUpperCase();
    for (const s of [`${up}_EVENTS`, `${up}_ALERTS`, `${up}_DEADLETTER`]) await jsm.streams.delete(s).catch(() => undefined);
    await (await new Kvm(nc).open(`${prefix}_checkpoints`).catch(() => undefined))?.destroy().catch(() => undefined);
    await nc.close();
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
