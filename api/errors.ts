/**
 * The API's error envelope: every failure answers `{ error: { code, message, field? } }`
 * with a stable code, a message a client can act on, and the JSON pointer of the field at
 * fault when there is one.
 */
import type { StoreError } from "../connectors/store/types.js";

export const API_ERROR_CODES = {
  E_VALIDATION: 400,
  E_INVALID: 400,
  E_UNAUTHENTICATED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_BAD_TRANSITION: 409,
  E_CONFLICT: 409,
  E_PAYLOAD_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_RATE_LIMITED: 429,
  E_INTERNAL: 500,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_CODES;

export interface ErrorBody {
  readonly error: { readonly code: ApiErrorCode; readonly message: string; readonly field?: string };
}

/** An error a route throws (or returns) to answer with the envelope. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
    /** Extra headers (e.g. `Retry-After`, `WWW-Authenticate`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.status = API_ERROR_CODES[code];
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}) } };
  }
}

/** A store's error value as an API error (404 not found, 409 bad transition or conflict, 400 invalid). */
export function fromStoreError(e: StoreError): ApiError {
  return new ApiError(e.code, e.message);
}

/** The JSON schema of the envelope, for the OpenAPI document. */
export const ERROR_SCHEMA = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", enum: Object.keys(API_ERROR_CODES) },
        message: { type: "string" },
        field: { type: "string", description: "JSON pointer of the field at fault, e.g. /state" },
      },
    },
  },
} as const;
