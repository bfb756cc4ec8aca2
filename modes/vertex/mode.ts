import { portSetting } from '../../src/settings-parts/env-values.js';
import { storageFolderEntry } from '../../src/settings-parts/weights.js';
import type { LazyMode } from '../../src/types.js';
import { readVertexSettings, vertexVariables } from './settings.js';

/** MODE=vertex: a Google Vertex AI custom container. */
export const mode: LazyMode = {
  name: 'vertex',
  hint: 'Google Vertex AI custom containers (AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE): docker run --rm -p 8080:8080 -e MODE=vertex IMAGE',
  serves: 'http',
  probe(env) {
    const vertex = readVertexSettings(env, portSetting(env));
    return { port: vertex.port, path: vertex.healthRoute };
  },
  // Vertex copies the model's --artifact-uri to a bucket and names it here: fetched like WEIGHTS_URL, into WEIGHTS_DIR/aip-storage.
  weights: (env) => (env.AIP_STORAGE_URI?.trim() ? [storageFolderEntry(env.AIP_STORAGE_URI, 'aip-storage', 'AIP_STORAGE_URI')] : []),
  // While the weights are fetched (and the model then loads), readiness says 503 "starting" with the progress.
  async whileModelLoads(env, log) {
    if (!env.WEIGHTS_URL?.trim() && !env.AIP_STORAGE_URI?.trim()) return undefined;
    const { serveWhileStarting, startingStatus } = await import('../../src/http/starting-server.js');
    const { vertexErrorBody } = await import('./error-body.js');
    const vertex = readVertexSettings(env, portSetting(env));
    return serveWhileStarting(
      { port: vertex.port, path: vertex.healthRoute },
      { answer: startingStatus(vertex.healthRoute), errorBody: vertexErrorBody },
      env,
      log,
    );
  },
  variables: vertexVariables,
  load: () => import('./index.js'),
};
