import { serveHttp } from '../../src/http/lifecycle.js';
import { readVertexSettings, vertexMaxInputBytes } from './settings.js';
import type { ModeContext } from '../../src/types.js';
import { vertexOpenApiDocument } from './openapi.js';
import { vertexRoutes } from './routes.js';
import { vertexErrorBody } from './error-body.js';

/**
 * MODE=vertex: a Google Vertex AI custom container. It listens on AIP_HTTP_PORT and serves the
 * health check at AIP_HEALTH_ROUTE and `{"instances": [...], "parameters": {...}}` at
 * AIP_PREDICT_ROUTE, the variables Vertex sets from the Model's container spec; a protocol on
 * the shared HTTP core, which owns the server, the limits, the queue, readiness, metrics and shutdown.
 */
export function run(context: ModeContext): Promise<number> {
  const { http } = context.settings;
  const vertex = readVertexSettings(context.env, http.port);
  // Vertex sends every request to AIP_HTTP_PORT: a PORT that says otherwise would leave the model unreachable.
  if (vertex.portFrom === 'AIP_HTTP_PORT' && http.port !== undefined && http.port !== vertex.port) {
    context.log.warn(`PORT (${http.port}) is ignored: MODE=vertex listens on AIP_HTTP_PORT (${vertex.port}), where Vertex AI sends its requests`);
  }
  const served: ModeContext = { ...context, settings: { ...context.settings, http: { ...http, port: vertex.port } } };
  return serveHttp(served, () => ({
    name: 'vertex',
    // Its handlers are done with a body once they settle (gather-pool.ts may reuse its buffer).
    handlersReleaseBodies: true,
    defaultPort: vertex.port,
    summary: `Vertex AI: predict POST ${vertex.predictRoute}, health ${vertex.healthRoute}, docs /docs`,
    // Nothing larger ever arrives through Vertex; MAX_INPUT_BYTES sets the endpoint's own limit.
    ...(context.settings.maxInputBytesGiven ? {} : { maxInputBytes: vertexMaxInputBytes }),
    routes: (core) => vertexRoutes(core, vertex),
    openApi: (core) => vertexOpenApiDocument(context.schema, core.model, vertex),
    errorBody: vertexErrorBody,
  }));
}
