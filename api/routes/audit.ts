/** /v1/audit: export the hash-chained audit log (JSON or CSV) and verify the chain. */
import type { AuditEntry } from "../../connectors/store/types.js";
import { csvRow } from "../csv.js";
import { objectSchema, type RouteDeps, type RouteSpec } from "./spec.js";

export const AUDIT_CSV_COLUMNS = ["seq", "at", "actor_kind", "actor_id", "action", "target", "details", "prev_hash", "hash"] as const;

function entryRow(e: AuditEntry): string {
  return csvRow([e.seq, e.at, e.actor.kind, e.actor.id, e.action, e.target, JSON.stringify(e.details), e.prev_hash, e.hash]);
}

export function auditRoutes({ store }: RouteDeps): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/audit",
      access: "audit:read",
      tag: "audit",
      summary: "Audit entries after a sequence number, oldest first, as JSON or CSV",
      schema: {
        querystring: objectSchema({
          after: { type: "integer", minimum: 0, default: 0, description: "return entries with seq > after" },
          limit: { type: "integer", minimum: 1, maximum: 10_000, default: 1000 },
          format: { enum: ["json", "csv"], default: "json" },
        }),
      },
      responses: { 200: "JSON { items, next_after } or text/csv (header X-Next-After)" },
      handler: async (req, reply) => {
        const q = req.query as { after: number; limit: number; format: "json" | "csv" };
        const items = await store.audit.list(q.after, q.limit);
        const last = items[items.length - 1];
        const nextAfter = items.length === q.limit && last !== undefined ? last.seq : null;
        if (q.format === "json") return { items, next_after: nextAfter };
        void reply.header("content-type", "text/csv; charset=utf-8");
        void reply.header("content-disposition", `attachment; filename="vigil-audit-${q.after + 1}.csv"`);
        if (nextAfter !== null) void reply.header("x-next-after", String(nextAfter));
        return csvRow(AUDIT_CSV_COLUMNS) + items.map(entryRow).join("");
      },
    },
    {
      method: "GET",
      url: "/v1/audit/verify",
      access: "audit:read",
      tag: "audit",
      summary: "Verify the audit chain (200 with ok: false and failed_at when it is broken)",
      responses: { 200: "{ ok, entries, anchor, failed_at?, reason? }" },
      handler: async () => store.audit.verify(),
    },
  ];
}
