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

/** Receives a decoded event with its time (epoch ms) and id (its `event.id`). */
export type EventSink = (fields: EventFields, ts: number, id: string) => void;

/**
 * Events a reader wants only the time of (`Engine.pass`): `keep` false hands the event to
 * `pass` instead of the sink, before the decoder computes its id. `keep` must not read
 * `event.id` (it holds a placeholder then).
 */
export interface EventFilter {
  keep(fields: EventFields): boolean;
  pass(ts: number): void;
}

/**
 * A decoder with an allocation-free path for readers: events go to a sink in line order, no
 * result object or array per line.
 */
export interface StreamLineDecoder extends LineDecoder {
  /**
   * Decodes one line, handing each event to `emit`; returns why the line failed, or undefined.
   * `lineHash` is fnv1a32(line) when the caller has it (a reader hashing bytes), else -1. An
   * error thrown by `emit` (or `filter`) propagates; any other error becomes a `decoder_error`
   * failure. With `filter`, the events it does not keep go to `filter.pass`.
   */
  decodeTo(line: string, lineNo: number, lineHash: number, emit: EventSink, filter?: EventFilter): ParseFailure | undefined;
}

/** Builds a failure result. */
export function parseFailure(reason: ParseFailureReason, message: string): ParseFailure {
  return { ok: false, reason, message };
}
