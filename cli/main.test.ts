import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { main } from "./main.js";
import { zoneProblem } from "./zone-check.js";
import { captureIo } from "../test/support/capture-io.js";

describe("vigil: flags, paths and replay hints", () => {
  test("IANA names are accepted, others explained", () => {
    expect(zoneProblem("UTC")).toBeUndefined();
    expect(zoneProblem("Europe/Berlin")).toBeUndefined();
    expect(zoneProblem("Mars/Base")).toBe('unknown time zone "Mars/Base": expected an IANA zone name such as "UTC" or "Europe/Berlin"');
  });

  test("--tz with an unknown zone is a flag error before any file is read", async () => {
    const io = captureIo();
    const code = await main(["replay", "--tz", "Mars/Base", "/nonexistent/auth.log"], io);
    expect(code).not.toBe(0);
    const text = io.errLines.join("\n");
    expect(text).toContain("option '--tz <zone>' argument 'Mars/Base' is invalid");
    expect(text).toContain('unknown time zone "Mars/Base"');
    expect(text).not.toContain("cannot read");
  });

  test("vigil check --schema: a JSON document that is not an array of paths is an error, not a one-line list", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-schema-"));
    try {
      writeFileSync(join(dir, "obj.json"), '{"source.ip": true}');
      writeFileSync(join(dir, "bad.json"), '["source.ip",');
      writeFileSync(join(dir, "ok.json"), '["source.ip", "event.category", "event.outcome", "user.name"]');
      writeFileSync(join(dir, "r.vigil"), 'rule r {\n  severity low\n  when event.category == "authentication" and usr.name == "x"\n}\n');
      const io = captureIo();
      expect(await main(["check", "--schema", join(dir, "obj.json"), join(dir, "r.vigil")], io)).toBe(2);
      expect(io.errLines).toEqual([`vigil: schema ${join(dir, "obj.json")}: a JSON schema must be an array of field paths (strings), e.g. ["source.ip", "user.name"]`]);
      const io2 = captureIo();
      expect(await main(["check", "--schema", join(dir, "bad.json"), join(dir, "r.vigil")], io2)).toBe(2);
      expect(io2.errLines[0]).toMatch(/^vigil: schema .*bad\.json: not valid JSON: /);
      const io3 = captureIo();
      expect(await main(["check", "--schema", join(dir, "ok.json"), join(dir, "r.vigil")], io3)).toBe(0);
      expect(io3.errLines.join("\n")).toContain("unknown field 'usr.name' (did you mean user.name?)");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("vigil run's duration flags take milliseconds or a unit, as the configuration file does", async () => {
    const io = captureIo();
    expect(await main(["run", "--checkpoint-interval", "5x"], io)).toBe(2);
    expect(io.errLines.join("\n")).toContain("argument '5x' is invalid. expected a duration of at least 1 ms, such as 5000 (milliseconds), 5s or 1m");
    const io2 = captureIo();
    expect(await main(["run", "--shutdown-timeout", "0s"], io2)).toBe(2);
    expect(io2.errLines.join("\n")).toContain("argument '0s' is invalid");
  });

  test("vigil run's count flags take the configuration file's ranges", async () => {
    const io = captureIo();
    expect(await main(["run", "--batch", "0"], io)).toBe(2);
    expect(io.errLines.join("\n")).toContain("option '--batch <n>' argument '0' is invalid. expected a whole number of at least 1");
  });

  test.each([
    [["check", "/nonexistent/rules"]],
    [["replay", "--rules", "/nonexistent/rules", "/nonexistent/auth.log"]],
    [["check", "--schema", "/nonexistent/schema.txt", "/nonexistent/rules"]],
    [["fmt", "/nonexistent/rules"]],
  ])("a path that cannot be read is named in one line, exit 2: vigil %j", async (argv) => {
    const io = captureIo();
    expect(await main(argv, io)).toBe(2);
    expect(io.errLines).toEqual([expect.stringMatching(/^vigil: cannot read \/nonexistent\/\S+: no such file or directory$/)]);
  });

  test("a replay in which no line decodes says to check --format and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-format-"));
    try {
      const file = join(dir, "access.log");
      writeFileSync(file, '192.0.2.1 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 512\n\n192.0.2.2 - - [10/Oct/2024:13:55:37 +0000] "GET /x HTTP/1.1" 404 10\n');
      const io = captureIo();
      expect(await main(["replay", "--format", "sshd", file], io)).toBe(1);
      expect(io.errLines.at(-1)).toBe("vigil replay: none of the 2 non-blank lines could be decoded as sshd: check --format (auto, json, sshd, syslog, access, api)");
      const ok = captureIo();
      expect(await main(["replay", "--format", "access", file], ok)).toBe(0);
      const blank = join(dir, "blank.log");
      writeFileSync(blank, "\n\n");
      expect(await main(["replay", blank], captureIo())).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("replay marks an action vigil run would skip for want of its target, and counts them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-skip-"));
    try {
      const file = join(dir, "auth.log");
      const lines = Array.from({ length: 5 }, (_, i) => `Jun 14 15:16:0${i} combo sshd(pam_unix)[1900${i}]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=attacker.example.net  user=root`);
      writeFileSync(file, lines.join("\n") + "\n");
      const io = captureIo();
      expect(await main(["replay", "--year", "2024", file], io)).toBe(0);
      const alert = io.outLines.map((l) => JSON.parse(l) as { rule: string; would_act: { action: string; skip?: string }[] }).find((a) => a.rule === "ssh_bruteforce");
      expect(alert?.would_act.find((x) => x.action === "block_ip")?.skip).toBe("missing ip");
      expect(alert?.would_act.find((x) => x.action === "notify")?.skip).toBeUndefined();
      expect(io.errLines.join("\n")).toContain("\nactions vigil run would skip: block_ip (missing ip) 1");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
