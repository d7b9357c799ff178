import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { cfg, formatConfigError, parseDuration, readConfigFile, resolveConfig, SETTINGS } from "./config.js";

describe("configuration", () => {
  test("a file's settings are typed: durations, numbers, lists, booleans", () => {
    const { values, errors } = readConfigFile("vigil.yaml", "shutdown_timeout: 30s\nnats:\n  batch: 200\n  checkpoint_interval: 2500\ninput:\n  files: [a.log, b.log]\n  follow: yes\n");
    expect(errors).toEqual([]);
    expect(values.get("shutdown_timeout")).toBe(30_000);
    expect(values.get("nats.batch")).toBe(200);
    expect(values.get("nats.checkpoint_interval")).toBe(2500);
    expect(values.get("input.files")).toEqual(["a.log", "b.log"]);
    expect(values.get("input.follow")).toBe(true);
  });

  test("an unknown setting or a bad value is reported at its line and column", () => {
    const { errors } = readConfigFile("vigil.yaml", "nats:\n  batch: many\n  bacth: 3\nbogus: 1\n");
    expect(errors.map(formatConfigError)).toEqual([
      "vigil.yaml:2:10: error E_CONFIG: nats.batch: expected a whole number",
      "vigil.yaml:3:3: error E_CONFIG: unknown setting `nats.bacth`",
      "vigil.yaml:4:1: error E_CONFIG: unknown setting `bogus`",
    ]);
    const near = readConfigFile("v.yaml", "batch: 3\n").errors[0];
    expect(near?.message).toBe("unknown setting `batch` (did you mean `nats.batch`?)");
  });

  test("YAML syntax errors carry a position", () => {
    const { errors } = readConfigFile("v.yaml", "nats:\n  batch: [1, 2\n");
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.line).toBeGreaterThanOrEqual(2);
  });

  test("defaults, then the file, then the environment, then flags", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
    try {
      const file = join(dir, "vigil.yaml");
      writeFileSync(file, "nats:\n  url: nats://from-file:4222\n  batch: 100\nshutdown_timeout: 5s\n");
      const env = { NATS_URL: "nats://from-env:4222", VIGIL_SHUTDOWN_TIMEOUT: "20s" };
      const { config, errors } = resolveConfig({ file, env, flags: new Map([["shutdown_timeout", 1234], ["nats.batch", undefined]]) });
      expect(errors).toEqual([]);
      expect(cfg.str(config, "nats.url")).toBe("nats://from-env:4222");
      expect(cfg.num(config, "nats.batch")).toBe(100);
      expect(cfg.num(config, "shutdown_timeout")).toBe(1234);
      expect(cfg.num(config, "nats.max_ack_pending")).toBe(100_000);
      expect(cfg.str(config, "input.tz")).toBe("UTC");
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("a bad environment value is an error naming the variable; an empty one is unset", () => {
    const r = resolveConfig({ env: { VIGIL_SHUTDOWN_TIMEOUT: "soon", NATS_URL: "" }, flags: new Map() });
    expect(r.errors.map((e) => e.message)).toEqual(["VIGIL_SHUTDOWN_TIMEOUT: expected a duration like 30s, 5m, 1h (or milliseconds)"]);
    expect(cfg.str(r.config, "nats.url")).toBeUndefined();
    expect(resolveConfig({ file: "/nonexistent/vigil.yaml", env: {}, flags: new Map() }).errors[0]?.message).toMatch(/cannot read the configuration file/);
  });

  test("durations use the rule language's units", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
    expect(parseDuration("1.5h")).toBeUndefined();
  });

  test("the README documents every setting and its environment variable", () => {
    const readme = readFileSync(join(import.meta.dirname, "../README.md"), "utf8");
    for (const s of SETTINGS) {
      expect(readme, s.path).toContain(`\`${s.path}\``);
      if (s.env !== undefined) expect(readme, s.env).toContain(`\`${s.env}\``);
    }
  });
});
