/**
 * Who is calling: an API key (`X-API-Key`, checked by the store against its stored hash)
 * or a JWT bearer token (`Authorization: Bearer`, HS256, `exp`/`nbf` checked, the role in
 * the `role` claim, the subject as the actor). Missing, malformed, unknown, revoked or
 * expired credentials are all 401; the route's permission decides 403.
 */
import { errors as joseErrors, jwtVerify } from "jose";
import type { Actor, ApiKeyStore, Role } from "../connectors/store/types.js";
import { ApiError } from "./errors.js";
import { isRole } from "./permissions.js";

export interface Principal {
  readonly actor: Actor;
  readonly role: Role;
  /** The rate-limit bucket: `key:<id>` or `user:<sub>`. */
  readonly bucket: string;
}

export interface JwtOptions {
  /** HS256 shared secret (VIGIL_JWT_SECRET), at least 32 bytes. */
  readonly secret: string;
  /** Required `iss`, when set. */
  readonly issuer?: string;
  /** Required `aud`, when set. */
  readonly audience?: string;
  /** Clock skew allowed on exp/nbf, seconds. Default 30. */
  readonly clockToleranceSec?: number;
  /** The clock, for tests. */
  readonly now?: () => Date;
}

export interface AuthOptions {
  /** Bearer tokens are refused when absent. */
  readonly jwt?: JwtOptions;
}

const MIN_JWT_SECRET_BYTES = 32;
const MAX_KEY_LENGTH = 256;
const WWW_AUTHENTICATE = { "WWW-Authenticate": 'Bearer realm="vigil", ApiKey header="X-API-Key"' };

function unauthenticated(message: string): ApiError {
  return new ApiError("E_UNAUTHENTICATED", message, undefined, WWW_AUTHENTICATE);
}

export class Authenticator {
  private readonly jwtKey: Uint8Array | undefined;

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly opts: AuthOptions = {},
  ) {
    if (opts.jwt !== undefined) {
      const key = new TextEncoder().encode(opts.jwt.secret);
      if (key.byteLength < MIN_JWT_SECRET_BYTES) {
        throw new RangeError(`the JWT secret (VIGIL_JWT_SECRET) must be at least ${MIN_JWT_SECRET_BYTES} bytes, got ${key.byteLength}`);
      }
      this.jwtKey = key;
    }
  }

  /** The caller, or an ApiError (401) to answer with. */
  async authenticate(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<Principal | ApiError> {
    const apiKey = headers["x-api-key"];
    const authorization = headers["authorization"];
    if (apiKey !== undefined && authorization !== undefined) return unauthenticated("send one credential: X-API-Key or Authorization, not both");
    if (apiKey !== undefined) return this.byKey(apiKey);
    if (authorization !== undefined) return this.byBearer(authorization);
    return unauthenticated("credentials required: an X-API-Key header or an Authorization: Bearer token");
  }

  private async byKey(header: string | string[]): Promise<Principal | ApiError> {
    if (typeof header !== "string" || header.length === 0 || header.length > MAX_KEY_LENGTH) return unauthenticated("invalid API key");
    const record = await this.keys.authenticate(header);
    if (record === undefined) return unauthenticated("invalid API key");
    return { actor: { kind: "api_key", id: record.id }, role: record.role, bucket: `key:${record.id}` };
  }

  private async byBearer(header: string | string[]): Promise<Principal | ApiError> {
    const match = typeof header === "string" ? /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(header) : null;
    if (match === null) return unauthenticated("the Authorization header must be 'Bearer <token>'");
    if (this.jwtKey === undefined || this.opts.jwt === undefined) return unauthenticated("bearer tokens are not accepted (no VIGIL_JWT_SECRET configured)");
    const jwt = this.opts.jwt;
    try {
      const { payload } = await jwtVerify(match[1] ?? "", this.jwtKey, {
        algorithms: ["HS256"],
        requiredClaims: ["exp", "sub"],
        clockTolerance: jwt.clockToleranceSec ?? 30,
        ...(jwt.issuer !== undefined ? { issuer: jwt.issuer } : {}),
        ...(jwt.audience !== undefined ? { audience: jwt.audience } : {}),
        ...(jwt.now !== undefined ? { currentDate: jwt.now() } : {}),
      });
      const role = payload["role"];
      if (!isRole(role)) return unauthenticated("the token's 'role' claim is not one of viewer, analyst, responder, admin");
      const sub = payload.sub ?? "";
      if (sub === "") return unauthenticated("the token has no subject");
      return { actor: { kind: "user", id: sub }, role, bucket: `user:${sub}` };
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) return unauthenticated("the token has expired");
      if (e instanceof joseErrors.JOSEError) return unauthenticated(`invalid token (${e.code})`);
      throw e;
    }
  }
}
