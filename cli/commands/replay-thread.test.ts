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
  // detected_at is the wall clock: the one field allowed to differ.
  return { code: r.status, out: r.stdout.replace(/"detected_at":"[^"]*"/g, ""), err: r.stderr };
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
  writeFileSync(mixed, lines.join("\n") + "\n");

  it("prints the same for a log with every kind of line, in auto format", () => {
    expectSameReplay([mixed]);
  });

  it("prints the same over several files (seq and ids continue), and stops at an unreadable one alike", () => {
    expectSameReplay(["examples/auth.log", mixed]);
    const r = replay(["examples/auth.log", join(dir, "missing.log"), mixed], "on");
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot read ${join(dir, "missing.log")}: ENOENT`);
    expectSameReplay(["examples/auth.log", join(dir, "missing.log"), mixed]);
  });

  it("prints the same with --format sshd", () => {
    expectSameReplay(["--format", "sshd", "--show-failures", "100", mixed, "examples/auth.log"]);
  });
});
