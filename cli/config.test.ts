import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { MIN_BOOTSTRAP_KEY_LENGTH } from "../api/server.js";
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
      "vigil.yaml:3:3: error E_CONFIG: unknown setting `nats.bacth` (did you mean `nats.batch`?)",
      "vigil.yaml:4:1: error E_CONFIG: unknown setting `bogus`",
    ]);
    const near = readConfigFile("v.yaml", "batch: 3\n").errors[0];
    expect(near?.message).toBe("unknown setting `batch` (did you mean `nats.batch`?)");
    expect(readConfigFile("v.yaml", "nats:\n  batchsize: 3\n").errors[0]?.message).toBe("unknown setting `nats.batchsize` (did you mean `nats.batch`?)");
  });

  test("a number outside its setting's range is reported at its position, from the file and from the environment", () => {
    const { values, errors } = readConfigFile("vigil.yaml", "nats:\n  batch: -5\n  max_ack_pending: 0\ninput:\n  max_queued_events: -1\napi:\n  port: 99999\n  rate_limit_window: 0\n");
    expect(errors.map(formatConfigError)).toEqual([
      "vigil.yaml:2:10: error E_CONFIG: nats.batch: -5 is out of range: expected at least 1",
      "vigil.yaml:3:20: error E_CONFIG: nats.max_ack_pending: 0 is out of range: expected at least 1",
      "vigil.yaml:5:22: error E_CONFIG: input.max_queued_events: -1 is out of range: expected at least 1",
      "vigil.yaml:7:9: error E_CONFIG: api.port: 99999 is out of range: expected 1 to 65535",
      "vigil.yaml:8:22: error E_CONFIG: api.rate_limit_window: 0 is out of range: expected 1 to 86400000 ms",
    ]);
    expect(values.size).toBe(0);
    expect(readConfigFile("v.yaml", "nats:\n  stream_max_bytes: -1\napi:\n  port: 65535\n").errors).toEqual([]);
    const env = resolveConfig({ env: { VIGIL_API_PORT: "0" }, flags: new Map() });
    expect(env.errors.map((e) => e.message)).toEqual(["VIGIL_API_PORT: 0 is out of range: expected 1 to 65535"]);
  });

  test("an unknown time zone and a list where text belongs are refused, not taken as values", () => {
    const { values, errors } = readConfigFile("vigil.yaml", "input:\n  tz: Mars/Base\nnats:\n  url: [a, b]\n");
    expect(errors.map(formatConfigError)).toEqual([
      'vigil.yaml:2:7: error E_CONFIG: input.tz: unknown time zone "Mars/Base": expected an IANA zone name such as "UTC" or "Europe/Berlin"',
      "vigil.yaml:4:8: error E_CONFIG: nats.url: expected a string",
    ]);
    expect(values.size).toBe(0);
    expect(readConfigFile("v.yaml", "input:\n  tz: Europe/Berlin\n").values.get("input.tz")).toBe("Europe/Berlin");
  });

  test("a NATS prefix that is no subject, a database URL of another kind and a retention that is no InfluxDB duration are refused", () => {
    const { errors } = readConfigFile("vigil.yaml", 'nats:\n  prefix: "sre x*"\ndatabase:\n  url: mysql://x\ninflux:\n  retention: forever\n');
    expect(errors.map(formatConfigError)).toEqual([
      "vigil.yaml:2:11: error E_CONFIG: nats.prefix: must be subject tokens: letters, digits, _ and -, joined by dots (no spaces, * or >)",
      "vigil.yaml:4:8: error E_CONFIG: database.url: must start with postgres://, postgresql:// or memory://",
      "vigil.yaml:6:14: error E_CONFIG: influx.retention: must be an InfluxDB duration such as 30d, 52w or 1h30m (or INF)",
    ]);
    const ok = readConfigFile("v.yaml", "nats:\n  prefix: tenant_a.sec\ndatabase:\n  url: postgresql://u@h/db\ninflux:\n  retention: 1h30m\n");
    expect(ok.errors).toEqual([]);
  });

  test("an input format or log level that is not one of the known ones is refused where it is written", () => {
    const { values, errors } = readConfigFile("vigil.yaml", "log_level: verbos\ninput:\n  format: sshdd\n");
    expect(errors.map(formatConfigError)).toEqual([
      "vigil.yaml:1:12: error E_CONFIG: log_level: must be one of fatal, error, warn, info, debug, trace, silent",
      "vigil.yaml:3:11: error E_CONFIG: input.format: must be one of auto, json, sshd, syslog, access, api (did you mean sshd?)",
    ]);
    expect(values.size).toBe(0);
    const ok = readConfigFile("v.yaml", "log_level: debug\ninput:\n  format: access\n");
    expect(ok.errors).toEqual([]);
    expect(ok.values.get("input.format")).toBe("access");
  });

  test("the response section is checked where it is written: every problem, at its position", () => {
    const text = "response:\n  mode: enforced\n  retry:\n    attempts: 0\n  allowlist:\n    addresses: [10.0.0.0/8, not-an-ip, 300.1.1.1]\n";
    expect(readConfigFile("vigil.yaml", text).errors.map(formatConfigError)).toEqual([
      "vigil.yaml:2:9: error E_CONFIG: response.mode: must be one of enforce, dry_run, approve",
      "vigil.yaml:4:15: error E_CONFIG: response.retry.attempts: must be a number ≥ 1",
      'vigil.yaml:6:29: error E_CONFIG: response.allowlist.addresses[1]: "not-an-ip" is not an address or CIDR (e.g. 10.0.0.0/8)',
      'vigil.yaml:6:40: error E_CONFIG: response.allowlist.addresses[2]: "300.1.1.1" is not an address or CIDR (e.g. 10.0.0.0/8)',
    ]);
    expect(readConfigFile("v.yaml", "response:\n  mode: approve\n  allowlist:\n    addresses: [10.0.0.0/8]\n").errors).toEqual([]);
  });

  test("API credentials too short for the API are refused before the job starts", () => {
    const r = resolveConfig({ env: { VIGIL_BOOTSTRAP_API_KEY: "k".repeat(MIN_BOOTSTRAP_KEY_LENGTH - 1), VIGIL_JWT_SECRET: "short" }, flags: new Map() });
    expect(r.errors.map((e) => e.message)).toEqual([`VIGIL_BOOTSTRAP_API_KEY: must be at least 24 characters (got 23)`, "VIGIL_JWT_SECRET: must be at least 32 bytes"]);
    expect(resolveConfig({ env: { VIGIL_BOOTSTRAP_API_KEY: "k".repeat(MIN_BOOTSTRAP_KEY_LENGTH) }, flags: new Map() }).errors).toEqual([]);
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
