/**
 * The event model. Events are ECS documents; a field may be stored nested
 * (`{source: {ip: "…"}}`) or under a flat dotted key (`{"source.ip": "…"}`) and both
 * resolve alike. Parsers in connectors/ produce flat dotted keys (cheapest to read).
 */

/** An ECS document as decoded from JSON or produced by a log parser. */
export type { EventFields } from "../dsl/fields.js";
import type { EventFields } from "../dsl/fields.js";

/** An event as the engine sees it: fields plus what was derived once at decode time. */
export interface EngineEvent {
  /** `event.id`: kept as it arrived, or derived deterministically from source and position. */
  readonly id: string;
  /** Event time (`@timestamp`) in epoch milliseconds. */
  readonly ts: number;
  /**
   * Position in the source (file line, stream sequence): orders events with equal
   * timestamps the same way on every replay or redelivery.
   */
  readonly seq: number;
  readonly fields: EventFields;
  /**
   * Where the event came from, for evidence: a file or subject, and the position in it
   * (line, stream sequence); shown as `source:position`. Kept apart so that no string is
   * built per event on the hot path.
   */
  readonly source?: string;
  readonly position?: number;
}

export { splitFieldPath, getField, fieldReader } from "../dsl/fields.js";

export { parseEventTime } from "../dsl/time.js";
