import { serveHttp } from '../../src/http/lifecycle.js';
import { readSageMakerSettings } from './settings.js';
import type { ModeContext } from '../../src/types.js';
import { soleBinaryInput } from './invocation-body.js';
import { bodyLimit, executionParameters } from './limits.js';
import { openApiDocument } from './openapi.js';
import { sageMakerRoutes } from './routes.js';
import { sageMakerErrorBody } from './errors.js';

/**
 * MODE=sagemaker (also `docker run IMAGE serve`, as SageMaker starts containers): Amazon
 * SageMaker's inference container contract, for real-time endpoints and batch transform, on the
 * shared HTTP core. Port 8080, or SAGEMAKER_BIND_TO_PORT, which wins over PORT.
 */
export function run(context: ModeContext): Promise<number> {
  const sagemaker = readSageMakerSettings(context.env);
  const limit = bodyLimit(context.settings, sagemaker);
  const parameters = executionParameters(context.settings.http.concurrency, sagemaker, limit.bytes);
  const { http } = context.settings;
  if (sagemaker.bindToPort !== undefined && http.port !== undefined && http.port !== sagemaker.bindToPort) {
    context.log.warn(`PORT is ${http.port}, but SageMaker asks for ${sagemaker.bindToPort} (SAGEMAKER_BIND_TO_PORT), which wins`);
  }
  if (sagemaker.maxPayloadInMb && limit.bytes < sagemaker.maxPayloadInMb * 1024 * 1024) {
    context.log.warn(
      `MAX_INPUT_BYTES (${limit.bytes}) is below the transform job's MaxPayloadInMB (${sagemaker.maxPayloadInMb}): larger mini-batches will be refused with 413`,
    );
  }
  context.log.info(`${sagemaker.batch ? 'batch transform' : 'real-time inference'}: request bodies up to ${limit.bytes} bytes (${limit.source})`);
  // SAGEMAKER_BIND_TO_PORT wins over PORT: SageMaker sets it only when the container must listen there.
  const served: ModeContext = { ...context, settings: { ...context.settings, http: { ...http, port: sagemaker.bindToPort ?? http.port } } };
  return serveHttp(served, () => ({
    name: 'sagemaker',
    // Its handlers are done with a body once they settle (gather-pool.ts may reuse its buffer).
    handlersReleaseBodies: true,
    defaultPort: 8080,
    // The core reads every body (JSON, multipart, raw, JSON Lines) within this mode's limit.
    maxInputBytes: limit.bytes,
    summary: 'SageMaker /ping, /invocations, batch transform /execution-parameters, docs /docs',
    routes: (core) => sageMakerRoutes(core, parameters),
    openApi: (core) => openApiDocument(context.schema, core.model, parameters, soleBinaryInput(context.schema)),
    errorBody: sageMakerErrorBody,
  }));
}
