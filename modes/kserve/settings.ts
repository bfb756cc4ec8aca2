import { portSetting } from '../../src/settings-parts/env-values.js';

/** KServe's gRPC port, which its InferenceService's `ports` and probes name. */
export const defaultGrpcPort = 8081;

/** The environment variables MODE=kserve reads beside the HTTP core's; docs/reference/environment.md lists them. */
export const kserveVariables = {
  GRPC_PORT: `MODE=kserve: the port of the Open Inference Protocol over gRPC (inference.GRPCInferenceService, grpc.health.v1.Health, reflection), on HOST; 0 turns gRPC off (default ${defaultGrpcPort})`,
} as const;

/** MODE=kserve's own settings. */
export interface KServeSettings {
  /** GRPC_PORT; 0 when gRPC is off. */
  grpcPort: number;
}

/** Reads MODE=kserve's variables; a malformed value stops the program with a clear error (exit 3). */
export function readKServeSettings(env: Readonly<Record<string, string | undefined>>): KServeSettings {
  return { grpcPort: portSetting(env, 'GRPC_PORT') ?? defaultGrpcPort };
}
