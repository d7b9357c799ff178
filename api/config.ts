/**
 * The API's settings from the environment, checked: a bad value is reported with the
 * variable's name instead of starting a server that behaves differently than asked.
 */
import type { AuthOptions } from "./auth.js";
import { DEFAULT_RATE_LIMITS, MIN_BOOTSTRAP_KEY_LENGTH, type RateLimitSettings } from "./server.js";

export const DEFAULT_API_PORT = 8018;

export interface ApiConfig {
  readonly port: number;
  readonly host: string;
  readonly corsOrigins: readonly string[];
  readonly auth: AuthOptions;
  readonly bootstrapApiKey: string | undefined;
  readonly rateLimits: RateLimitSettings;
  readonly trustProxy: boolean;
}

export interface ConfigError {
  readonly code: "E_CONFIG";
  readonly variable: string;
  readonly message: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function positiveInt(env: Env, name: string, fallback: number, max: number): number | ConfigError {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) return { code: "E_CONFIG", variable: name, message: `${name} must be an integer from 1 to ${max}, got ${JSON.stringify(raw)}` };
  return n;
}

const isError = (v: unknown): v is ConfigError => typeof v === "object" && v !== null && (v as ConfigError).code === "E_CONFIG";

/**
 * Reads VIGIL_API_PORT (8018), VIGIL_API_HOST (127.0.0.1), VIGIL_CORS_ORIGINS (comma-separated,
 * none), VIGIL_JWT_SECRET / VIGIL_JWT_ISSUER / VIGIL_JWT_AUDIENCE, VIGIL_BOOTSTRAP_API_KEY,
 * VIGIL_RATE_LIMIT_PER_KEY (100), VIGIL_RATE_LIMIT_PER_IP (500), VIGIL_RATE_LIMIT_WINDOW_MS
 * (60000) and VIGIL_TRUST_PROXY (false).
 */
export function apiConfigFromEnv(env: Env): { ok: true; value: ApiConfig } | { ok: false; error: ConfigError } {
  const port = positiveInt(env, "VIGIL_API_PORT", DEFAULT_API_PORT, 65_535);
  const perPrincipal = positiveInt(env, "VIGIL_RATE_LIMIT_PER_KEY", DEFAULT_RATE_LIMITS.perPrincipal, 1_000_000);
  const perIp = positiveInt(env, "VIGIL_RATE_LIMIT_PER_IP", DEFAULT_RATE_LIMITS.perIp, 1_000_000);
  const windowMs = positiveInt(env, "VIGIL_RATE_LIMIT_WINDOW_MS", DEFAULT_RATE_LIMITS.windowMs, 86_400_000);
  for (const v of [port, perPrincipal, perIp, windowMs]) if (isError(v)) return { ok: false, error: v };

  const corsOrigins = (env["VIGIL_CORS_ORIGINS"] ?? "").split(",").map((o) => o.trim()).filter((o) => o !== "");
  for (const origin of corsOrigins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin) {
      return { ok: false, error: { code: "E_CONFIG", variable: "VIGIL_CORS_ORIGINS", message: `VIGIL_CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin like https://console.example.com` } };
    }
  }

  const secret = env["VIGIL_JWT_SECRET"];
  if (secret !== undefined && secret !== "" && Buffer.byteLength(secret) < 32) {
    return { ok: false, error: { code: "E_CONFIG", variable: "VIGIL_JWT_SECRET", message: "VIGIL_JWT_SECRET must be at least 32 bytes" } };
  }
  const bootstrap = env["VIGIL_BOOTSTRAP_API_KEY"];
  if (bootstrap !== undefined && bootstrap !== "" && bootstrap.length < MIN_BOOTSTRAP_KEY_LENGTH) {
    return { ok: false, error: { code: "E_CONFIG", variable: "VIGIL_BOOTSTRAP_API_KEY", message: `VIGIL_BOOTSTRAP_API_KEY must be at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters` } };
  }
  const trust = (env["VIGIL_TRUST_PROXY"] ?? "").toLowerCase();
  if (!["", "true", "false", "1", "0"].includes(trust)) {
    return { ok: false, error: { code: "E_CONFIG", variable: "VIGIL_TRUST_PROXY", message: `VIGIL_TRUST_PROXY must be true or false, got ${JSON.stringify(env["VIGIL_TRUST_PROXY"])}` } };
  }
  const nonEmpty = (v: string | undefined): v is string => v !== undefined && v !== "";
  return {
    ok: true,
    value: {
      port: port as number,
      host: env["VIGIL_API_HOST"] || "127.0.0.1",
      corsOrigins,
      auth: nonEmpty(secret)
        ? {
            jwt: {
              secret,
              ...(nonEmpty(env["VIGIL_JWT_ISSUER"]) ? { issuer: env["VIGIL_JWT_ISSUER"] } : {}),
              ...(nonEmpty(env["VIGIL_JWT_AUDIENCE"]) ? { audience: env["VIGIL_JWT_AUDIENCE"] } : {}),
            },
          }
        : {},
      bootstrapApiKey: nonEmpty(bootstrap) ? bootstrap : undefined,
      rateLimits: { perPrincipal: perPrincipal as number, perIp: perIp as number, windowMs: windowMs as number },
      trustProxy: trust === "true" || trust === "1",
    },
  };
}
