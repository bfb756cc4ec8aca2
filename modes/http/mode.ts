import { probeOnPort } from '../../src/probe-on-port.js';
import type { LazyMode } from '../../src/types.js';

/** MODE=http: the web page, the Python library's multipart endpoint and the prediction API. */
export const mode: LazyMode = {
  name: 'http',
  hint: 'web page, JSON and multipart API on port 5000: docker run --rm -p 5000:5000 -e MODE=http IMAGE',
  serves: 'http',
  probe: probeOnPort(5000, '/health'),
  // While WEIGHTS_URL is fetched (and the model then loads), readiness says 503 "starting" with the progress.
  async whileModelLoads(env, log) {
    if (!env.WEIGHTS_URL?.trim()) return undefined;
    const { serveWhileStarting, startingStatus } = await import('../../src/http/starting-server.js');
    const { nativeErrorBody } = await import('../../src/http/respond.js');
    const answer = startingStatus('/health', { path: '/health/live', body: { status: 'alive' } });
    return serveWhileStarting(probeOnPort(5000, '/health')(env), { answer, errorBody: nativeErrorBody }, env, log);
  },
  load: () => import('./index.js'),
};
