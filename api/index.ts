/** The HTTP API: public face of api/. */
export { type ApiServerOptions, apiRoutes, bootstrapAdminKey, createApiServer, DEFAULT_RATE_LIMITS, type RateLimitSettings, type RegisteredRoute } from "./server.js";
export { type AuthOptions, type JwtOptions, type Principal } from "./auth.js";
export { type ApiConfig, apiConfigFromEnv } from "./config.js";
export { ApiError, type ApiErrorCode, type ErrorBody } from "./errors.js";
export { type Access, allows, type Permission, PERMISSIONS, ROLES } from "./permissions.js";
export type * from "./ports.js";
export { createDecodingIngest, type DecodingIngestOptions, type IngestedEvent } from "./ingest.js";
export { createPackRuleAdmin, type PackRuleAdminOptions } from "./rule-admin.js";
