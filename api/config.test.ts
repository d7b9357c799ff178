import { describe, expect, it } from "vitest";
import { apiConfigFromEnv } from "./config.js";

describe("apiConfigFromEnv", () => {
  it("defaults: port 8018 on loopback, no CORS origin, no JWT, 100/min per key, 500/min per IP", () => {
    expect(apiConfigFromEnv({})).toEqual({
      ok: true,
      value: {
        port: 8018,
        host: "127.0.0.1",
        corsOrigins: [],
        auth: {},
        bootstrapApiKey: undefined,
        rateLimits: { perPrincipal: 100, perIp: 500, windowMs: 60_000 },
        trustProxy: false,
      },
    });
  });

  it("reads every variable", () => {
    const r = apiConfigFromEnv({
      VIGIL_API_PORT: "9000",
      VIGIL_API_HOST: "0.0.0.0",
      VIGIL_CORS_ORIGINS: "https://a.example, http://localhost:3000",
      VIGIL_JWT_SECRET: "s".repeat(32),
      VIGIL_JWT_ISSUER: "idp",
      VIGIL_JWT_AUDIENCE: "vigil",
      VIGIL_BOOTSTRAP_API_KEY: "k".repeat(24),
      VIGIL_RATE_LIMIT_PER_KEY: "10",
      VIGIL_RATE_LIMIT_PER_IP: "20",
      VIGIL_RATE_LIMIT_WINDOW_MS: "1000",
      VIGIL_TRUST_PROXY: "true",
    });
    expect(r).toEqual({
      ok: true,
      value: {
        port: 9000,
        host: "0.0.0.0",
        corsOrigins: ["https://a.example", "http://localhost:3000"],
        auth: { jwt: { secret: "s".repeat(32), issuer: "idp", audience: "vigil" } },
        bootstrapApiKey: "k".repeat(24),
        rateLimits: { perPrincipal: 10, perIp: 20, windowMs: 1000 },
        trustProxy: true,
      },
    });
  });

  it.each([
    [{ VIGIL_API_PORT: "http" }, "VIGIL_API_PORT"],
    [{ VIGIL_API_PORT: "70000" }, "VIGIL_API_PORT"],
    [{ VIGIL_RATE_LIMIT_PER_KEY: "0" }, "VIGIL_RATE_LIMIT_PER_KEY"],
    [{ VIGIL_RATE_LIMIT_PER_IP: "1.5" }, "VIGIL_RATE_LIMIT_PER_IP"],
    [{ VIGIL_RATE_LIMIT_WINDOW_MS: "-1" }, "VIGIL_RATE_LIMIT_WINDOW_MS"],
    [{ VIGIL_CORS_ORIGINS: "*" }, "VIGIL_CORS_ORIGINS"],
    [{ VIGIL_CORS_ORIGINS: "https://a.example/path" }, "VIGIL_CORS_ORIGINS"],
    [{ VIGIL_JWT_SECRET: "short" }, "VIGIL_JWT_SECRET"],
    [{ VIGIL_BOOTSTRAP_API_KEY: "short" }, "VIGIL_BOOTSTRAP_API_KEY"],
    [{ VIGIL_TRUST_PROXY: "maybe" }, "VIGIL_TRUST_PROXY"],
  ])("refuses %o, naming %s", (env, variable) => {
    const r = apiConfigFromEnv(env);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.variable).toBe(variable);
      expect(r.error.message).toContain(variable);
    }
  });

  it("never puts a secret in an error message", () => {
    const r = apiConfigFromEnv({ VIGIL_JWT_SECRET: "tiny-secret" });
    expect(!r.ok && r.error.message).not.toContain("tiny-secret");
  });
});
