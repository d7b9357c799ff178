/**
 * `vigil replay --decode-thread on` (reading and decoding on a worker thread) prints what the
 * single-threaded replay prints: the same alerts, failures and summary, for syslog and JSON
 * lines, several files, undecodable lines and an unreadable file. Runs the built CLI (dist/):
 * a worker thread loads compiled modules.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "vigil-replay-thread-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function replay(args: readonly string[], mode: "on" | "off"): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(root, "bin/vigil.js"), "replay", "--decode-thread", mode, "--year", "2024", ...args], { encoding: "utf8", cwd: root });
  // detected_at and the clock in a refusal are the wall clock: all that may differ.
  return { code: r.status, out: r.stdout.replace(/"detected_at":"[^"]*"/g, ""), err: r.stderr.replace(/ahead of the clock \([^)]*\)/g, "") };
}

function expectSameReplay(args: readonly string[]): void {
  const off = replay(args, "off");
  const on = replay(args, "on");
  expect(on).toEqual(off);
}

describe.skipIf(!existsSync(join(root, "dist/cli/main.js")))("replay with a decoding thread", () => {
  const mixed = join(dir, "mixed.log");
  const lines = [
    "",
    "not a syslog line",
    '{"@timestamp":"2024-03-03T06:25:15Z","event":{"category":"authentication","outcome":"failure","type":"start"},"source":{"ip":"198.51.100.7"},"user":{"name":"bob"},"tags":["a",1,null]}',
    '{"@timestamp":"2024-03-03T06:25:15Z","event.id":"own-1","__proto__":{"x":1},"123":"n","n":-0}',
    "{broken",
    "Mar  3 06:25:17 host sshd[124]: message repeated 3 times: [ Failed password for root from 198.51.100.9 port 22 ssh2]",
    "Feb 30 06:25:17 host sshd[124]: Failed password for root from 198.51.100.9 port 22 ssh2",
    "<34>Mar  3 06:25:18 host sshd[125]: Invalid user x from 198.51.100.200 port 4",
    "Mar  3 06:25:19 host sshd[126]: Failed password for invalid user j\u00f6hn from 2001:db8::1 port 22 ssh2\r",
    `Mar  3 06:25:19 host sshd[125]: ${"A".repeat(70_000)}`,
  ];
  for (let i = 0; i < 400; i++) {
    lines.push(`Mar  3 06:${String(26 + (i >> 6)).padStart(2, "0")}:${String(i % 60).padStart(2, "0")} host sshd[${1000 + (i % 7)}]: Failed password for ${i % 3 === 0 ? "invalid user " : ""}u${i % 11} from 203.0.113.${i % 9} port ${40000 + i} ssh2`);
    if (i % 50 === 0) lines.push(`Mar  3 06:26:00 host sshd(pam_unix)[${2000 + i}]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=h${i % 4}.example.org  user=root`);
  }
  lines.push(
    // Refused (in the future of the clock): one no rule needs, one rules need; then late ones.
    "2099-01-01T00:00:00Z host sshd[7]: Connection closed by 198.51.100.9 port 22 [preauth]",
    "2099-01-01T00:00:01Z host sshd[7]: Failed password for root from 198.51.100.9 port 22 ssh2",
    "Mar  3 06:40:00 host sshd[8]: Connection closed by 198.51.100.9 port 22 [preauth]",
    "Mar  3 06:20:00 host sshd[8]: Connection closed by 198.51.100.9 port 22 [preauth]",
    "Mar  3 06:20:01 host sshd[8]: Failed password for root from 198.51.100.9 port 22 ssh2",
  );
  writeFileSync(mixed, lines.join("\n") + "\n");

  it("prints the same for a log with every kind of line, in auto format", () => {
    expectSameReplay([mixed]);
  });

  it("prints the same over several files (seq and ids continue), and stops at an unreadable one alike", () => {
    expectSameReplay(["examples/auth.log", mixed]);
    const r = replay(["examples/auth.log", join(dir, "missing.log"), mixed], "on");
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot read ${join(dir, "missing.log")}: no such file or directory`);
    expectSameReplay(["examples/auth.log", join(dir, "missing.log"), mixed]);
  });

  it("prints the same with --format sshd", () => {
    expectSameReplay(["--format", "sshd", "--show-failures", "100", mixed, "examples/auth.log"]);
  });

  it("sends the events no rule needs by their time alone once the caller compiled the same pack", async () => {
    type Dist = typeof import("../../connectors/sources/threaded-log-file.js") & typeof import("../../connectors/sources/pack-filter.js");
    const load = async (m: string) => (await import(join(root, "dist/connectors/sources", m))) as Dist;
    const { DecodeThread } = await load("threaded-log-file.js");
    const { compilePackInput } = await load("pack-filter.js");
    const { collectPackFiles } = (await import(join(root, "dist/cli/pack-files.js"))) as typeof import("../pack-files.js");
    const input = { files: collectPackFiles([join(root, "rules")]), params: undefined };
    const count = async (digest: string) => {
      const t = new DecodeThread(["examples/auth.log"], { format: "auto", year: 2024 }, input);
      t.usePack(digest);
      const n = { events: 0, passed: 0 };
      await t.read(0, () => n.events++, () => {}, { lines: 0, events: 0, failures: new Map() }, () => n.passed++);
      return n;
    };
    const same = await count(compilePackInput(input).digest);
    expect(same.passed).toBeGreaterThan(same.events);
    const other = await count("another pack");
    expect(other).toEqual({ events: same.events + same.passed, passed: 0 });
  });

  it("prints the same with a policy file (the thread compiles the pack with the same parameters)", () => {
    const policy = join(dir, "policy.yaml");
    writeFileSync(policy, "authentication:\n  lockout:\n    max_failed_attempts: 2\n");
    const r = replay(["--policy", policy, "--show-failures", "100", mixed], "on");
    expect(r.out).toContain('"rule":"account_lockout"');
    expectSameReplay(["--policy", policy, "--show-failures", "100", mixed, "examples/auth.log"]);
  });
});
