import { readSageMakerSettings } from '../modes/sagemaker/settings.js';
import { readVertexSettings } from '../modes/vertex/settings.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** Where a serving mode answers its readiness, and how to read the answer. */
export interface ProbeTarget {
  port: number;
  path: string;
  /** Whether an answer means ready; by default, status 200. */
  ready?: (status: number, body: string) => boolean;
}

/**
 * The readiness route of each serving mode that listens, at the port it listens on, for the
 * container's HEALTHCHECK (src/healthcheck.ts). Each mode's port rule is the one its protocol
 * applies (PORT, or the platform's own variable); undefined for a mode with no listener (lambda).
 */
export function probeTarget(mode: string, env: Environment): ProbeTarget | undefined {
  const port = (fallback: number) => {
    const given = Number(env.PORT?.trim() || Number.NaN);
    return Number.isInteger(given) && given > 0 ? given : fallback;
  };
  switch (mode) {
    case 'http':
    case 'queue':
      return { port: port(5000), path: '/health' };
    case 'kserve':
      return { port: port(8080), path: '/v2/health/ready' };
    case 'cog':
      // Cog's health-check always answers 200; the state is in the body.
      return { port: port(5000), path: '/health-check', ready: (status, body) => status === 200 && /"status":"(READY|BUSY)"/.test(body) };
    case 'sagemaker':
      return { port: readSageMakerSettings(env).bindToPort ?? port(8080), path: '/ping' };
    case 'vertex': {
      const vertex = readVertexSettings(env, env.PORT?.trim() ? port(8080) : undefined);
      return { port: vertex.port, path: vertex.healthRoute };
    }
    default:
      return undefined;
  }
}
