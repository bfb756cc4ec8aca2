import { type Metadata, Server, ServerCredentials, status as grpcStatus, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { service as healthDefinition, protoPath as healthProtoPath } from 'grpc-health-check';
import { AiIntegrationError } from '../../src/errors.js';
import type { BackgroundWork, HttpCore } from '../../src/http/protocol.js';
import { GrpcCalls } from './grpc-calls.js';
import { healthService } from './grpc-health.js';
import { inferenceService, inferenceServiceName } from './grpc-inference-service.js';
import { loadInferenceProto, messageOptions } from './grpc-proto.js';

/**
 * The Open Inference Protocol over gRPC beside the REST routes, on the same core (model, queue,
 * limits, readiness, metrics, access log): inference.GRPCInferenceService, grpc.health.v1.Health
 * and server reflection on `port`, on HOST. Messages past MAX_INPUT_BYTES are refused
 * (RESOURCE_EXHAUSTED) from their length prefix, before they are read. Started once the HTTP port
 * listens, as the core's background work: its `stop` is the gRPC side of the drain (GOAWAY, the
 * calls in flight finish; those still running at SHUTDOWN_TIMEOUT_MS get UNAVAILABLE).
 */
export async function startGrpcServer(core: HttpCore, port: number): Promise<BackgroundWork> {
  const { context } = core;
  const { http } = context.settings;
  const { definition, service } = loadInferenceProto();
  const server = new Server({
    'grpc.max_receive_message_length': context.settings.maxInputBytes,
    'grpc.max_send_message_length': -1,
  });
  const calls = new GrpcCalls(core);
  server.addService(service, inferenceService(core, calls));
  const health = healthService(core, calls, inferenceServiceName);
  server.addService(healthDefinition, health.implementation);
  // Reflection describes both services, behind the token as REST's /openapi.json is.
  const reflection = new ReflectionService({ ...definition, ...loadSync(healthProtoPath, messageOptions) });
  reflection.addToServer({ addService: (definition, implementation) => server.addService(definition, guarded(implementation, calls)) });

  const host = http.host.includes(':') ? `[${http.host}]` : http.host;
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error) reject(new AiIntegrationError('AI_ERR_INVALID_OPTION', `cannot listen for gRPC on ${http.host}:${port} (GRPC_PORT): ${error.message}`));
      else resolve(boundPort);
    });
  });
  context.log.info(`listening on grpc://${http.host}:${bound} (${inferenceServiceName}, grpc.health.v1.Health, reflection)`);

  let stopped: Promise<void> | undefined;
  const drain = () =>
    new Promise<void>((resolve) => {
      health.endWatches();
      const deadline = setTimeout(() => {
        const gone = new AiIntegrationError(
          'AI_ERR_NOT_READY',
          `the server shut down before this call was answered: it was not done within SHUTDOWN_TIMEOUT_MS (${http.shutdownTimeoutMs} ms) of the shutdown; send it again, to another replica`,
        );
        const answered = calls.answerPending(gone);
        if (answered > 0) context.log.warn(`shutdown: ${answered} gRPC call(s) still running after SHUTDOWN_TIMEOUT_MS; answered UNAVAILABLE`);
        // The answers go out, then the connections close.
        setImmediate(() => {
          server.forceShutdown();
          resolve();
        });
      }, http.shutdownTimeoutMs).unref();
      // Listeners close and every connection gets GOAWAY: no new calls, those in flight finish.
      server.tryShutdown(() => {
        clearTimeout(deadline);
        resolve();
      });
    });
  return { stop: () => (stopped ??= drain()) };
}

// Each method of a service behind the token: a call without it ends UNAUTHENTICATED before the
// method sees it.
function guarded(implementation: UntypedServiceImplementation, calls: GrpcCalls): UntypedServiceImplementation {
  const wrapped: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(implementation)) {
    wrapped[name] = ((call: { metadata: Metadata; emit(event: 'error', error: object): boolean }, ...rest: unknown[]) => {
      if (calls.authorized(call.metadata)) return (method as (...args: unknown[]) => unknown)(call, ...rest);
      call.emit('error', { code: grpcStatus.UNAUTHENTICATED, details: calls.unauthenticated(call.metadata).message });
      return undefined;
    }) as UntypedServiceImplementation[string];
  }
  return wrapped;
}
