import type { Result, StoreError } from "./types.js";

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function err<T>(code: StoreError["code"], message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

/**
 * Thrown by methods whose contract returns no `Result` (list with a bad cursor, attach to
 * an unknown alert): the caller can act on it (`code`), unlike a broken connection.
 */
export class StoreInputError extends Error {
  constructor(
    readonly code: StoreError["code"],
    message: string,
  ) {
    super(message);
    this.name = "StoreInputError";
  }
}
