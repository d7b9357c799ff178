import type { EventFields } from "../../engine/event.js";

/** Why a line could not be decoded. Counted per reason and reported with its line number. */
export type ParseFailureReason =
  | "empty_line"
  | "not_syslog"
  | "bad_timestamp"
  | "invalid_json"
  | "not_an_object"
  | "line_too_long";

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
}

export type ParseResult = ParseSuccess | ParseFailure;

/** Decodes one line of a log. Stateful decoders (year inference, pid → address) live per source. */
export interface LineDecoder {
  decode(line: string, lineNo: number): ParseResult;
}
