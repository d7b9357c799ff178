/** POST /v1/events: event ingest (JSON, NDJSON or log lines). */
import { ApiError } from "../errors.js";
import { principalOf, type RouteDeps, type RouteSpec } from "./spec.js";

export const INGEST_MEDIA_TYPES = ["application/json", "application/x-ndjson", "text/plain"] as const;

export function eventRoutes({ ports }: RouteDeps): RouteSpec[] {
  return [
    {
      method: "POST",
      url: "/v1/events",
      access: "events:write",
      tag: "events",
      summary:
        "Ingest events: application/json (an event or an array), application/x-ndjson (an event a line) or text/plain (log lines). " +
        "202 { accepted, rejected: [{ line, reason }] }; 400 when nothing was accepted",
      rawBody: INGEST_MEDIA_TYPES,
      responses: { 202: "{ accepted, rejected }" },
      errors: [413, 415],
      handler: async (req, reply) => {
        const body = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0) throw new ApiError("E_VALIDATION", "the request has no body: send events");
        const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
        const result = await ports.ingest.ingest(body, contentType, principalOf(req).actor);
        if (result.accepted === 0 && result.rejected.length > 0) {
          const first = result.rejected[0];
          void reply.code(400);
          return {
            error: { code: "E_VALIDATION", message: `no event accepted; line ${first?.line ?? 0}: ${first?.reason ?? ""}` },
            accepted: 0,
            rejected: result.rejected,
          };
        }
        void reply.code(202);
        return result;
      },
    },
  ];
}
