/** The engine: public face of engine/. Imports dsl/ only; connectors implement its interfaces. */
export { type Alert, type AlertEvidence, type PlannedAction, alertId } from "./alert.js";
export { Engine, futureTimestampMessage, type EngineOptions, type EngineSnapshot, type EngineStats, type ProcessResult, type RuleStats } from "./engine.js";
export { type EngineEvent, type EventFields, getField, parseEventTime } from "./event.js";
export { maskText, maskValue, maskCounts, type MaskCounts } from "./mask.js";
