import { portSetting } from '../../src/settings-parts/env-values.js';
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
  variables: vertexVariables,
  load: () => import('./index.js'),
};
