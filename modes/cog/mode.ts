import { probeOnPort } from '../../src/probe-on-port.js';
import type { LazyMode } from '../../src/types.js';

/** MODE=cog: Cog's prediction API, where Cog containers run. */
export const mode: LazyMode = {
  name: 'cog',
  hint: 'the Cog prediction API on port 5000, where Cog containers run: docker run --rm -p 5000:5000 -e MODE=cog IMAGE',
  serves: 'http',
  // Cog's health-check always answers 200; the state is in the body.
  probe: probeOnPort(5000, '/health-check', (status, body) => status === 200 && /"status":"(READY|BUSY)"/.test(body)),
  // Cog's health check says STARTING while the model loads: a small server holds the port until
  // the service, which needs the worker's schema, takes it over (on the same port, even PORT=0's).
  async whileModelLoads(env, log) {
    const { serveHealthWhileLoading } = await import('./loading-health.js');
    const server = await serveHealthWhileLoading(env, log);
    if (!server) return undefined;
    return {
      report: (line) => server.log(line),
      async end() {
        await server.close();
        return { PORT: String(server.port) };
      },
    };
  },
  load: () => import('./index.js'),
};
