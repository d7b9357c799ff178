/** Vigil's time series in InfluxDB 1.x: see writer.ts and docs/influx.md. */
export { Aggregator, EMPTY_TAG, MEASUREMENTS } from "./aggregate.js";
export { createInfluxWriter, influxOptionsFromEnv, type InfluxLogger, type InfluxWriter, type InfluxWriterOptions, type InfluxWriterStats, type RetentionPolicyOptions } from "./writer.js";
