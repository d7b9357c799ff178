/**
 * The platform's security policy (security-policies.yaml) → rule-pack parameters.
 * Every key has one parameter; durations become milliseconds (a duration param's override).
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export type PolicyParams = Record<string, number>;

interface PolicyKey {
  readonly path: readonly string[];
  readonly param: string;
  /** Multiplier from the file's unit to the param's (ms for durations, 1 for counts). */
  readonly scale: number;
  readonly integer: boolean;
}

const KEYS: readonly PolicyKey[] = [
  { path: ["authentication", "lockout", "max_failed_attempts"], param: "lockout_max_failures", scale: 1, integer: true },
  { path: ["authentication", "lockout", "duration_seconds"], param: "lockout_duration", scale: 1000, integer: false },
  { path: ["sessions", "idle_timeout_minutes"], param: "session_idle_timeout", scale: 60_000, integer: false },
  { path: ["sessions", "max_duration_hours"], param: "session_max_duration", scale: 3_600_000, integer: false },
  { path: ["rate_limits", "global_per_minute"], param: "rate_limit_global", scale: 1, integer: true },
  { path: ["rate_limits", "per_user_per_minute"], param: "rate_limit_per_user", scale: 1, integer: true },
  { path: ["rate_limits", "per_ip_per_minute"], param: "rate_limit_per_ip", scale: 1, integer: true },
  { path: ["audit", "retention_days"], param: "audit_retention", scale: 86_400_000, integer: false },
];

/** A policy file that cannot be used: the message names the file and the key. */
export class PolicyError extends Error {
  readonly code = "E_POLICY";
}

/** Parses policy YAML text into parameter overrides. Throws PolicyError with an actionable message. */
export function policyParams(text: string, file = "security-policies.yaml"): PolicyParams {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new PolicyError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new PolicyError(`${file}: expected a mapping at the top level`);
  const known = new Set(KEYS.map((k) => k.path.join(".")));
  const out: PolicyParams = {};
  const walk = (v: unknown, path: string[]): void => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
      return;
    }
    const dotted = path.join(".");
    const key = KEYS.find((k) => k.path.join(".") === dotted);
    if (key === undefined) {
      const near = [...known].filter((k) => k.split(".").pop() === path[path.length - 1]);
      throw new PolicyError(`${file}: unknown key '${dotted}'${near.length > 0 ? ` (did you mean '${near[0]}'?)` : ""}; known keys: ${[...known].join(", ")}`);
    }
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || (key.integer && !Number.isInteger(v))) {
      throw new PolicyError(`${file}: '${dotted}' must be a ${key.integer ? "whole " : ""}number greater than 0, got ${JSON.stringify(v)}`);
    }
    out[key.param] = v * key.scale;
  };
  walk(doc, []);
  return out;
}

/** Reads and parses a policy file. */
export function loadPolicyFile(path: string): PolicyParams {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new PolicyError(`cannot read policy file ${path}: ${(e as Error).message}`);
  }
  return policyParams(text, path);
}
