import { probeOnPort } from '../../src/probe-on-port.js';
import type { LazyMode } from '../../src/types.js';

/** MODE=openai: OpenAI's API for chat, completion and embedding models. */
export const mode: LazyMode = {
  name: 'openai',
  hint: "OpenAI's API for chat, completion and embedding models (/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models) on port 8000: docker run --rm -p 8000:8000 -e MODE=openai IMAGE",
  serves: 'http',
  probe: probeOnPort(8000, '/health'),
  // While WEIGHTS_URL is fetched (and the model then loads), readiness says 503 "starting" with the progress.
  async whileModelLoads(env, log) {
    if (!env.WEIGHTS_URL?.trim()) return undefined;
    const { serveWhileStarting, startingStatus } = await import('../../src/http/starting-server.js');
    const { openAiErrorBody } = await import('./error-body.js');
    const answer = startingStatus('/health', { path: '/health/live', body: { status: 'alive' } });
    return serveWhileStarting(probeOnPort(8000, '/health')(env), { answer, errorBody: openAiErrorBody }, env, log);
  },
  load: () => import('./index.js'),
};
