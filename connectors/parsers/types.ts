import type { EventFields } from "../../engine/event.js";

/** Why a line could not be decoded. Counted per reason and reported with its line number. */
export type ParseFailureReason =
  | "empty_line"
  | "not_syslog"
  /** `--format access`: a line that is not in the combined or common log format. */
  | "not_access_log"
  | "bad_timestamp"
  | "invalid_json"
  | "not_an_object"
  | "line_too_long"
  /** A JSON event without a usable `@timestamp`. */
  | "missing_timestamp"
  /** Safety net: the decoder hit an unexpected internal error on this line (a bug, never the data's fault). */
  | "decoder_error";

/** Every {@link ParseFailureReason}, for counters and exhaustive checks. */
export const PARSE_FAILURE_REASONS: readonly ParseFailureReason[] = [
  "empty_line",
  "not_syslog",
  "not_access_log",
  "bad_timestamp",
  "invalid_json",
  "not_an_object",
  "line_too_long",
  "missing_timestamp",
  "decoder_error",
];

export interface ParseFailure {
  readonly ok: false;
  readonly reason: ParseFailureReason;
  /** A message a person can act on. */
  readonly message: string;
}

export interface ParseSuccess {
  readonly ok: true;
  /** One line may yield several events (`message repeated N times`). */
  readonly events: EventFields[];
  /** The events' time (epoch ms) when the decoder computed it: `@timestamp` need not be re-parsed. */
  readonly ts?: number;
}

export type ParseResult = ParseSuccess | ParseFailure;

/** Decodes one line of a log. Stateful decoders (year inference, pid → address) live per source. */
export interface LineDecoder {
  decode(line: string, lineNo: number): ParseResult;
}

/** Builds a failure result. */
export function parseFailure(reason: ParseFailureReason, message: string): ParseFailure {
  return { ok: false, reason, message };
}
