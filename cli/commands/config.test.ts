import { describe, expect, test } from "vitest";
import { resolveConfig } from "../config.js";
import { runConfig } from "./config.js";
import { captureIo } from "../../test/support/capture-io.js";

describe("vigil config", () => {
  test("secrets and credentials are hidden; other settings are shown even when their name has 'key' in it", () => {
    const env = {
      VIGIL_BOOTSTRAP_API_KEY: "bootstrap-key-0123456789abcdef",
      VIGIL_JWT_SECRET: "x".repeat(40),
      VIGIL_RATE_LIMIT_PER_KEY: "250",
      DATABASE_URL: "postgres://vigil:hunter2@db:5432/vigil",
    };
    const resolved = resolveConfig({ env, flags: new Map([["response", { section: { idp: { url: "https://u:pw@idp.internal/h", token: "tok-123" }, siem: [{ kind: "splunk", token: "hec-9" }], mode: "approve" } }]]) });
    const io = captureIo();
    expect(runConfig({}, resolved, io)).toBe(0);
    const shown = io.outLines.join("\n");
    expect(shown).toContain("api.bootstrap_api_key: ***");
    expect(shown).toContain("api.jwt_secret: ***");
    expect(shown).toContain("api.rate_limit_per_key: 250");
    expect(shown).toContain("database.url: postgres://vigil:***@db:5432/vigil");
    expect(shown).toContain('response: {"idp":{"url":"https://u:***@idp.internal/h","token":"***"},"siem":[{"kind":"splunk","token":"***"}],"mode":"approve"}');
    for (const secret of ["bootstrap-key-0123456789abcdef", "hunter2", "tok-123", "hec-9", "pw@"]) expect(shown).not.toContain(secret);
  });

  test("an invalid configuration prints its errors and exits 2", () => {
    const io = captureIo();
    expect(runConfig({}, resolveConfig({ env: { VIGIL_API_PORT: "99999" }, flags: new Map() }), io)).toBe(2);
    expect(io.errLines).toEqual(["error E_CONFIG: VIGIL_API_PORT: 99999 is out of range: expected 1 to 65535"]);
  });
});
