import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { main } from "../main.js";

describe("run and replay on bad input", () => {
  test("an unreadable input file is reported and the command exits 1, both of them", async () => {
    const env = process.env.NATS_URL;
    delete process.env.NATS_URL;
    process.env.VIGIL_STORE = "false"; // the store has tests of its own (test/integration/run-store.test.ts)
    try {
      for (const cmd of [
        ["replay", "/nonexistent/auth.log"],
        ["run", "--input", "/nonexistent/auth.log"],
      ]) {
        const errs: string[] = [];
        const code = await main(cmd, { out: () => undefined, err: (l) => errs.push(l) });
        expect(code, cmd.join(" ")).toBe(1);
        expect(errs.join("\n")).toContain("cannot read /nonexistent/auth.log");
      }
    } finally {
      if (env !== undefined) process.env.NATS_URL = env;
      delete process.env.VIGIL_STORE;
    }
  });

  test("the embedded run raises the alerts replay prints for the shipped sample", async () => {
    const env = process.env.NATS_URL;
    delete process.env.NATS_URL;
    process.env.VIGIL_STORE = "false"; // the store has tests of its own (test/integration/run-store.test.ts)
    try {
      const ran: string[] = [];
      const replayed: string[] = [];
      expect(await main(["run", "--input", "examples/auth.log", "--year", "2024"], { out: (l) => ran.push(l), err: () => undefined })).toBe(0);
      expect(await main(["replay", "examples/auth.log", "--year", "2024"], { out: (l) => replayed.push(l), err: () => undefined })).toBe(0);
      const ids = (lines: string[]) =>
        lines
          .map((l) => JSON.parse(l) as { id: string; type?: string })
          .filter((a) => a.type === undefined)
          .map((a) => a.id)
          .sort();
      expect(ids(replayed).length).toBeGreaterThan(10);
      expect(ids(ran)).toEqual(ids(replayed));
    } finally {
      if (env !== undefined) process.env.NATS_URL = env;
      delete process.env.VIGIL_STORE;
    }
  });

  test("input files of which no line decodes: both commands say to check --format and exit 1", async () => {
    const env = process.env.NATS_URL;
    delete process.env.NATS_URL;
    process.env.VIGIL_STORE = "false";
    const dir = mkdtempSync(join(tmpdir(), "vigil-undecodable-"));
    try {
      const file = join(dir, "noise.log");
      writeFileSync(file, "\u0000\u0001binary\nnot a log line\n\n");
      for (const cmd of [
        ["replay", file],
        ["run", "--input", file],
      ]) {
        const errs: string[] = [];
        expect(await main(cmd, { out: () => undefined, err: (l) => errs.push(l) }), cmd.join(" ")).toBe(1);
        expect(errs.join("\n")).toMatch(/none of the 2 non-blank lines (of the input files )?could be decoded as auto: check --format/);
      }
    } finally {
      if (env !== undefined) process.env.NATS_URL = env;
      delete process.env.VIGIL_STORE;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the demo: the real access log in examples/ shows the two admin-page probes", async () => {
    const env = process.env.NATS_URL;
    delete process.env.NATS_URL;
    process.env.VIGIL_STORE = "false";
    try {
      const out: string[] = [];
      expect(await main(["run", "--input", "examples/apache-access.log"], { out: (l) => out.push(l), err: () => undefined })).toBe(0);
      const alerts = out.map((l) => JSON.parse(l) as { rule: string; keys: Record<string, string>; type?: string }).filter((a) => a.type === undefined);
      expect(alerts.map((a) => `${a.rule} ${a.keys["source.ip"]}`).sort()).toEqual(["web_admin_panel_probe 144.76.194.187", "web_admin_panel_probe 195.250.34.144"]);
    } finally {
      if (env !== undefined) process.env.NATS_URL = env;
      delete process.env.VIGIL_STORE;
    }
  });
});
