import { serveHttp } from '../../src/http/lifecycle.js';
import { livenessProbe, readinessProbe } from '../../src/http/probes.js';
import { plural } from '../../src/plural.js';
import { readQueueSettings } from '../../src/settings.js';
import type { ModeContext } from '../../src/types.js';
import { startConsumer } from './consumer.js';

/**
 * MODE=queue: the container is a worker of a BullMQ queue on Redis. Jobs (`{"inputs": {...}}`)
 * go through the shared core as HTTP requests do (validation, the bounded queue, timeouts, the
 * supervisor's restarts), and each job's return value is the native API's envelope, so any BullMQ
 * producer, in Node or Python, can use the queue. The port serves the probes and metrics only.
 */
export function run(context: ModeContext): Promise<number> {
  // Checked before the port opens: a missing REDIS_URL is a configuration error (exit 3).
  const settings = readQueueSettings(context.env, context.modelName);
  return serveHttp(context, () => ({
    name: 'queue',
    // Its handlers are done with a body once they settle (gather-pool.ts may reuse its buffer).
    handlersReleaseBodies: true,
    defaultPort: 5000,
    summary: `probes /health and /health/live, metrics /metrics; consuming the BullMQ queue ${JSON.stringify(settings.queueName)}`,
    routes: (core) => [
      { method: 'GET', path: '/health', probe: true, handler: readinessProbe(core, (readiness) => ({ ...readiness, queue: settings.queueName })) },
      {
        method: 'GET',
        path: '/health/live',
        probe: true,
        handler: livenessProbe(core, (live) =>
          live
            ? { status: 'alive' }
            : { status: 'stuck', reason: `${plural(core.status().stuck, 'inference')} ran past INFERENCE_TIMEOUT_MS and have not returned` },
        ),
      },
    ],
    openApi: (core) => ({
      openapi: '3.1.0',
      info: {
        title: core.model.name,
        version: core.model.version,
        description: `A worker of the BullMQ queue ${settings.queueName}: jobs {"inputs": {...}} in, the native API's envelope out.`,
      },
      paths: {
        '/health': {
          get: {
            operationId: 'readiness',
            summary: 'Readiness: 200 when the model is ready and Redis is connected',
            responses: { '200': { description: 'ready' }, '503': { description: 'not ready, with the reason' } },
          },
        },
        '/health/live': { get: { operationId: 'liveness', summary: 'Liveness', responses: { '200': { description: 'alive' } } } },
        '/metrics': {
          get: {
            operationId: 'metrics',
            summary: 'Prometheus metrics, with queue_jobs{state}',
            responses: { '200': { description: 'Prometheus text format' } },
          },
        },
      },
    }),
    background: (core) => startConsumer(core, settings),
  }));
}
