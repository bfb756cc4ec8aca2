import { probeOnPort } from '../../src/probe-on-port.js';
import type { LazyMode } from '../../src/types.js';
import { kserveVariables } from './settings.js';

/** MODE=kserve: KServe's Open Inference Protocol. */
export const mode: LazyMode = {
  name: 'kserve',
  hint: "KServe's Open Inference Protocol (V2, with binary tensors, and V1) on port 8080, and over gRPC on 8081: docker run --rm -p 8080:8080 -p 8081:8081 -e MODE=kserve IMAGE",
  serves: 'http',
  probe: probeOnPort(8080, '/v2/health/ready'),
  // While WEIGHTS_URL is fetched (and the model then loads), REST readiness says 503 with the
  // progress as its reason; the gRPC port opens with the service.
  async whileModelLoads(env, log) {
    if (!env.WEIGHTS_URL?.trim()) return undefined;
    const { serveWhileStarting } = await import('../../src/http/starting-server.js');
    const { openInferenceErrorBody } = await import('./errors.js');
    const answer = (path: string, reason: string) =>
      path === '/v2/health/live'
        ? { status: 200, body: { live: true } }
        : path === '/v2/health/ready' || /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/ready$/.test(path)
          ? { status: 503, body: { ready: false, reason } }
          : undefined;
    return serveWhileStarting(probeOnPort(8080, '/v2/health/ready')(env), { answer, errorBody: openInferenceErrorBody }, env, log);
  },
  variables: kserveVariables,
  load: () => import('./index.js'),
};
