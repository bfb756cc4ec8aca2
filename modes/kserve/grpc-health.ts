import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { AiIntegrationError } from '../../src/errors.js';
import type { HttpCore } from '../../src/http/protocol.js';
import type { GrpcCalls } from './grpc-calls.js';

type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** How often a Watch looks at readiness: it has no event for every change (a worker restarting, the drain). */
const watchIntervalMs = 500;

/**
 * grpc.health.v1.Health on the service's readiness, as Kubernetes' `grpc:` probes and
 * grpc_health_probe call it: the server ('') and inference.GRPCInferenceService are SERVING while
 * the model takes work (ready, as /v2/health/ready says), NOT_SERVING while it restarts or the
 * server drains. Open without the token, as the HTTP probes are.
 */
export function healthService(core: HttpCore, calls: GrpcCalls, inferenceService: string) {
  const known = new Set(['', inferenceService]);
  const statusOf = (service: string): ServingStatus => {
    if (!known.has(service)) return 'SERVICE_UNKNOWN';
    return core.readiness().status === 'ready' ? 'SERVING' : 'NOT_SERVING';
  };
  const watchers = new Set<{ stream: ServerWritableStream<{ service?: string }, unknown>; last: ServingStatus }>();
  let timer: NodeJS.Timeout | undefined;
  const look = () => {
    for (const watcher of watchers) {
      const now = statusOf(watcher.stream.request.service ?? '');
      if (now !== watcher.last) {
        watcher.last = now;
        watcher.stream.write({ status: now });
      }
    }
  };
  const implementation: UntypedServiceImplementation = {
    Check: calls.unary<{ service?: string }, { status: ServingStatus }>(
      '/grpc.health.v1.Health/Check',
      ({ service = '' }) => {
        const status = statusOf(service);
        if (status === 'SERVICE_UNKNOWN') throw new AiIntegrationError('AI_ERR_NOT_FOUND', `no service '${service}' here; ask for '' or '${inferenceService}'`);
        return { status };
      },
      { open: true },
    ),
    Watch: (stream: ServerWritableStream<{ service?: string }, unknown>) => {
      const watcher = { stream, last: statusOf(stream.request.service ?? '') };
      watchers.add(watcher);
      stream.write({ status: watcher.last });
      timer ??= setInterval(look, watchIntervalMs).unref();
      stream.once('cancelled', () => {
        watchers.delete(watcher);
        if (watchers.size === 0) {
          clearInterval(timer);
          timer = undefined;
        }
      });
    },
    List: calls.unary(
      '/grpc.health.v1.Health/List',
      () => ({ statuses: Object.fromEntries([...known].map((service) => [service, { status: statusOf(service) }])) }),
      {
        open: true,
      },
    ),
  };
  return {
    implementation,
    /** Tells the watchers NOT_SERVING and ends their streams, which would hold the drain open. */
    endWatches() {
      for (const { stream } of watchers) {
        stream.write({ status: 'NOT_SERVING' });
        stream.end();
      }
      watchers.clear();
      clearInterval(timer);
      timer = undefined;
    },
  };
}
