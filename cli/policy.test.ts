import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { loadPack } from "../dsl/index.js";
import { collectPackFiles } from "./pack-files.js";
import { loadPolicyFile, PolicyError, policyParams } from "./policy.js";

describe("security policy", () => {
  test("the sample policy maps to the packs' parameters (durations in ms)", () => {
    expect(loadPolicyFile("config/security-policies.yaml")).toEqual({
      lockout_max_failures: 5,
      lockout_duration: 300_000,
      session_idle_timeout: 1_800_000,
      session_max_duration: 28_800_000,
      rate_limit_global: 1000,
      rate_limit_per_user: 100,
      rate_limit_per_ip: 500,
      audit_retention: 2555 * 86_400_000,
    });
  });

  test("the policy's values replace the rules' thresholds and action durations", () => {
    const params = policyParams("authentication:\n  lockout:\n    max_failed_attempts: 3\n    duration_seconds: 900\nrate_limits:\n  per_ip_per_minute: 50\n");
    const pack = loadPack(collectPackFiles(["rules"]), { params });
    expect(pack.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const lockout = pack.rules.find((r) => r.name === "account_lockout");
    expect(lockout?.correlation).toMatchObject({ kind: "threshold", value: 3 });
    expect(lockout?.actions[0]?.args.get("for")).toEqual({ constant: true, value: 900_000 });
    // count > 50 fires at 51.
    expect(pack.rules.find((r) => r.name === "rate_limit_ip")?.correlation).toMatchObject({ value: 51 });
  });

  test("errors name the file and the key", () => {
    expect(() => policyParams("rate_limits:\n  per_ip_minute: 5\n", "p.yaml")).toThrow(/p\.yaml: unknown key 'rate_limits\.per_ip_minute'/);
    expect(() => policyParams("sessions:\n  idle_timeout_minutes: -1\n", "p.yaml")).toThrow(/'sessions\.idle_timeout_minutes' must be a number greater than 0, got -1/);
    expect(() => policyParams("authentication:\n  lockout:\n    max_failed_attempts: 2.5\n")).toThrow(/must be a whole number/);
    expect(() => policyParams(": : :\n  - [")).toThrow(PolicyError);
    expect(() => loadPolicyFile("/nonexistent/policy.yaml")).toThrow(/cannot read policy file/);
    expect(readFileSync("config/security-policies.yaml", "utf8")).toContain("retention_days: 2555");
  });
});
