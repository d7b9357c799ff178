/** HTTP request metrics, registered into the registry that /metrics serves. */
import { Counter, Histogram, type Registry } from "prom-client";

export interface HttpMetrics {
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function httpMetrics(registry: Registry): HttpMetrics {
  const labelNames = ["method", "route", "status"] as const;
  const requests =
    (registry.getSingleMetric("vigil_http_requests_total") as Counter<(typeof labelNames)[number]> | undefined) ??
    new Counter({ name: "vigil_http_requests_total", help: "HTTP requests answered, by route and status", labelNames, registers: [registry] });
  const duration =
    (registry.getSingleMetric("vigil_http_request_duration_seconds") as Histogram<(typeof labelNames)[number]> | undefined) ??
    new Histogram({
      name: "vigil_http_request_duration_seconds",
      help: "HTTP request latency, by route and status",
      labelNames,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  return {
    observe(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}
