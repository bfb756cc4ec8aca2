import { serveHttp } from '../../src/http/lifecycle.js';
import type { ModeContext } from '../../src/types.js';
import { openInferenceErrorBody, openInferenceStatuses } from './errors.js';
import { openApiDocument } from './openapi.js';
import { openInferenceRoutes } from './routes.js';

/**
 * MODE=kserve: KServe's Open Inference Protocol (V2, with the binary tensor data extension, and
 * V1) on port 8080, as Triton, MLServer and KServe's own servers speak it, on the shared HTTP core.
 */
export function run(context: ModeContext): Promise<number> {
  return serveHttp(context, () => ({
    name: 'kserve',
    defaultPort: 8080,
    summary: `Open Inference Protocol V2 /v2/models/${context.modelName}/infer, V1 /v1/models/${context.modelName}:predict, docs /docs`,
    routes: openInferenceRoutes,
    openApi: (core) => openApiDocument(context.schema, core.model),
    errorBody: openInferenceErrorBody,
    errorStatuses: openInferenceStatuses,
  }));
}
