/**
 * Roles and what each may do. Roles are ordered: each has the permissions of the ones
 * before it (viewer < analyst < responder < admin). Every route names one permission, or
 * `public` for the unauthenticated probes.
 */
import type { Role } from "../connectors/store/types.js";

export const ROLES: readonly Role[] = ["viewer", "analyst", "responder", "admin"];

/** Permission → the least role that holds it. */
export const PERMISSIONS = {
  /** Read incidents, alerts, rules, KPIs and response actions. */
  read: "viewer",
  /** Transition, assign, comment on and re-grade incidents; check a rule pack; send events. */
  "incidents:write": "analyst",
  "rules:check": "analyst",
  "events:write": "analyst",
  /** Export and verify the audit log. */
  "audit:read": "analyst",
  /** Approve queued response actions and undo done ones. */
  "actions:write": "responder",
  /** Enable, disable and reload rules. */
  "rules:admin": "admin",
  /** Create, list and revoke API keys. */
  "keys:admin": "admin",
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;
/** What a route requires: a permission, or nothing at all. */
export type Access = Permission | "public";

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Whether `role` holds `permission`. */
export function allows(role: Role, permission: Permission): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(PERMISSIONS[permission]);
}
