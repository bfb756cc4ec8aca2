import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics of one HTTP service, in a registry of its own (never prom-client's global one). */
export function createMetrics(queueDepth: () => number, inFlight: () => number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const inferences = new Counter({
    name: 'inferences_total',
    help: 'Inferences by outcome: success, failed (the model reported it), invalid (a malformed result), threw, timeout',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const inferenceDuration = new Histogram({
    name: 'inference_duration_seconds',
    help: 'Time the inference function took',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  new Gauge({ name: 'inference_queue_depth', help: 'Requests waiting for an inference slot', registers: [registry], collect() { this.set(queueDepth()); } });
  new Gauge({ name: 'inferences_in_flight', help: 'Inferences running now', registers: [registry], collect() { this.set(inFlight()); } });
  // Label lookups hash the label values on every call; the set of routes, methods and statuses is
  // small, so each combination's child is looked up once and kept.
  const requestChildren = new Map<string, { count: () => void; time: (seconds: number) => void }>();
  const recordRequest = (route: string, method: string, status: number, seconds: number) => {
    const key = `${route} ${method} ${status}`;
    let child = requestChildren.get(key);
    if (!child) {
      const counter = requests.labels(route, method, String(status));
      const histogram = requestDuration.labels(route);
      child = { count: () => counter.inc(), time: (value) => histogram.observe(value) };
      requestChildren.set(key, child);
    }
    child.count();
    child.time(seconds);
  };
  const outcomes = new Map<string, { inc: () => void }>();
  const recordInference = (outcome: 'success' | 'failed' | 'invalid' | 'threw' | 'timeout') => {
    let child = outcomes.get(outcome);
    if (!child) outcomes.set(outcome, (child = inferences.labels(outcome)));
    child.inc();
  };
  return { registry, requests, requestDuration, inferences, inferenceDuration, recordRequest, recordInference };
}

export type HttpMetrics = ReturnType<typeof createMetrics>;
