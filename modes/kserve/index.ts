import { serveHttp } from '../../src/http/lifecycle.js';
import type { ModeContext } from '../../src/types.js';
import { openInferenceErrorBody, openInferenceStatuses } from './errors.js';
import { openApiDocument } from './openapi.js';
import { openInferenceRoutes } from './routes.js';
import { readKServeSettings } from './settings.js';

/**
 * MODE=kserve: KServe's Open Inference Protocol (V2, with the binary tensor data extension, and
 * V1) on port 8080, as Triton, MLServer and KServe's own servers speak it, on the shared HTTP core;
 * and over gRPC on GRPC_PORT (8081), on the same core. The gRPC server (grpc-js, the .proto) is
 * loaded only when GRPC_PORT is not 0, once the HTTP port listens.
 */
export function run(context: ModeContext): Promise<number> {
  const { grpcPort } = readKServeSettings(context.env);
  return serveHttp(context, () => ({
    name: 'kserve',
    // Its handlers are done with a body once they settle (gather-pool.ts may reuse its buffer).
    handlersReleaseBodies: true,
    defaultPort: 8080,
    summary: `Open Inference Protocol V2 /v2/models/${context.modelName}/infer, V1 /v1/models/${context.modelName}:predict, docs /docs`,
    routes: openInferenceRoutes,
    openApi: (core) => openApiDocument(context.schema, core.model),
    errorBody: openInferenceErrorBody,
    errorStatuses: openInferenceStatuses,
    ...(grpcPort === 0 ? {} : { background: async (core) => (await import('./grpc-server.js')).startGrpcServer(core, grpcPort) }),
  }));
}
