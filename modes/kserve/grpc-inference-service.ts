import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { AiIntegrationError } from '../../src/errors.js';
import type { HttpCore } from '../../src/http/protocol.js';
import { runtimeVersion } from '../../src/version.js';
import type { GrpcCalls } from './grpc-calls.js';
import { decodeGrpcInferRequest } from './grpc-infer-request.js';
import { encodeGrpcInferResponse } from './grpc-infer-response.js';
import { describedFields } from './field-tensors.js';
import type { ModelInferRequestMessage, ModelRequestMessage } from './grpc-proto.js';
import { modelMetadata, outputMetadata, serverMetadata } from './metadata.js';
import { checkModel, runItems } from './model-calls.js';

/** The service's full name, as paths, health and reflection name it. */
export const inferenceServiceName = 'inference.GRPCInferenceService';

/**
 * inference.GRPCInferenceService on the HTTP core: the same model, queue, limits, readiness and
 * metadata as the REST routes. The health methods (ServerLive, ServerReady, ModelReady) are open
 * without the token, as REST's /v2/health/* and /v2/models/{name}/ready are.
 */
export function inferenceService(core: HttpCore, calls: GrpcCalls): UntypedServiceImplementation {
  const { context, model } = core;
  const { schema } = context;
  const metadata = modelMetadata(model, schema, outputMetadata(context.output));
  // TensorMetadata has no parameters in the .proto: what REST's metadata says of each input beyond
  // its name, datatype and shape is not carried.
  const tensor = ({ name, datatype, shape }: { name: string; datatype: string; shape: number[] }) => ({ name, datatype, shape });
  const metadataMessage = {
    name: metadata.name,
    versions: metadata.versions,
    platform: metadata.platform,
    inputs: metadata.inputs.map(tensor),
    outputs: metadata.outputs.map(tensor),
  };
  const path = (method: string) => `/${inferenceServiceName}/${method}`;
  const ready = () => core.readiness().status === 'ready';
  // An empty string is proto3's "not given".
  const checkNamed = ({ name, version }: ModelRequestMessage) => checkModel(model, name, version || undefined);

  return {
    ServerLive: calls.unary(path('ServerLive'), () => ({ live: core.live() }), { open: true }),
    ServerReady: calls.unary(path('ServerReady'), () => ({ ready: ready() }), { open: true }),
    ModelReady: calls.unary<ModelRequestMessage, { ready: boolean }>(
      path('ModelReady'),
      (request) => {
        checkNamed(request);
        return { ready: ready() };
      },
      { open: true },
    ),
    ServerMetadata: calls.unary(path('ServerMetadata'), () => serverMetadata(runtimeVersion)),
    ModelMetadata: calls.unary<ModelRequestMessage, typeof metadataMessage>(path('ModelMetadata'), (request) => {
      checkNamed(request);
      return metadataMessage;
    }),
    ModelInfer: calls.unary<ModelInferRequestMessage, unknown>(path('ModelInfer'), async (request, call) => {
      // Draining (SIGTERM) or a model that failed: no new work, as REST answers 503.
      const { status, reason } = core.readiness();
      if (status === 'shutting_down' || status === 'failed') {
        throw new AiIntegrationError('AI_ERR_NOT_READY', `the server is shutting down and takes no new work (${reason ?? status})`);
      }
      checkModel(model, request.model_name, request.model_version || undefined);
      const decoded = decodeGrpcInferRequest(request, schema);
      const results = await runItems(core, decoded.items, 'batch items', (inputs, reservation) => core.run(inputs, { signal: call.cancellation, reservation }));
      return encodeGrpcInferResponse({ model, id: decoded.id ?? call.id, outputs: decoded.outputs, results, described: describedFields(context.output) });
    }),
  };
}
