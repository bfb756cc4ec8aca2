// The container's HEALTHCHECK (dist/healthcheck.js) asks each serving mode's own readiness route
// at the port that mode listens on: a kserve or vertex container is not marked unhealthy for
// lacking the native /health on 5000.
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/podman.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, runProcess } from '../helpers/run-process.js';

const healthcheck = fileURLToPath(new URL('../../dist/healthcheck.js', import.meta.url));
const model = fixture('http-model.mjs');
const servers: RunningServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

function check(env: Record<string, string>) {
  const clean = { ...(process.env as Record<string, string>) };
  for (const name of ['MODE', 'PORT', 'HOST', 'AIP_HTTP_PORT', 'AIP_HEALTH_ROUTE', 'SAGEMAKER_BIND_TO_PORT']) delete clean[name];
  return runProcess(process.execPath, [healthcheck], { env: { ...clean, ...env } });
}

async function serve(env: Record<string, string>): Promise<string> {
  const server = await startServer(model, env);
  servers.push(server);
  return new URL(server.url).port;
}

describe('the HEALTHCHECK script', () => {
  test.each([
    { mode: 'http', route: '/health' },
    { mode: 'kserve', route: '/v2/health/ready' },
    { mode: 'cog', route: '/health-check' },
    { mode: 'sagemaker', route: '/ping' },
  ])('MODE=$mode: its readiness route ($route) at PORT: healthy; nothing listening there: unhealthy', async ({ mode, route }) => {
    const port = await serve({ MODE: mode });
    const healthy = await check({ MODE: mode, PORT: port });
    expect(healthy.code, healthy.stdout.toString()).toBe(0);
    expect(healthy.stdout.toString()).toContain(`http://127.0.0.1:${port}${route}: 200`);
    const unused = await freePort();
    const unhealthy = await check({ MODE: mode, PORT: String(unused) });
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.stdout.toString()).toContain(`http://127.0.0.1:${unused}${route}: no answer`);
  });

  test('MODE=vertex: the port and health route Vertex sets (AIP_HTTP_PORT, AIP_HEALTH_ROUTE)', async () => {
    const aipPort = String(await freePort());
    const env = { MODE: 'vertex', AIP_HTTP_PORT: aipPort, AIP_HEALTH_ROUTE: '/v1/endpoints/7/deployedModels/9' };
    await serve(env);
    const healthy = await check(env);
    expect(healthy.code, healthy.stdout.toString()).toBe(0);
    expect(healthy.stdout.toString()).toContain(`http://127.0.0.1:${aipPort}/v1/endpoints/7/deployedModels/9: 200`);
  });

  test('a mode with no listener (lambda, a one-shot mode) passes with a word; a malformed platform variable fails with it', async () => {
    const lambda = await check({ MODE: 'lambda' });
    expect(lambda.code).toBe(0);
    expect(lambda.stdout.toString()).toContain('MODE=lambda has no HTTP listener');
    const oneShot = await check({ MODE: 'test_model_integration' });
    expect(oneShot.code).toBe(0);
    const malformed = await check({ MODE: 'vertex', AIP_HTTP_PORT: 'eighty' });
    expect(malformed.code).toBe(1);
    expect(malformed.stdout.toString()).toContain('cannot tell where to probe: AIP_HTTP_PORT');
  });
});
