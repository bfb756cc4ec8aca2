import { createServer } from 'node:http';
import { readSetting } from '../../src/settings-table.js';
import type { Logger } from '../../src/types.js';
import { cogTimestamp } from './timestamp.js';
import type { CogHealthCheck } from './types.js';

/** The port Cog's server listens on, and MODE=cog's service by default. */
export const cogPort = 5000;

/** The early server: the port it took, and how to give that port to the service. */
export interface LoadingHealthServer {
  port: number;
  close(): Promise<void>;
  /** Adds a line to the health check's `setup.logs` (the weights' progress, before the model loads). */
  log(line: string): void;
}

/**
 * Cog's server answers `GET /health-check` with STARTING while the model's setup runs, and
 * platforms that run Cog containers wait for that before READY. The service itself can only start
 * once the model is loaded (its routes come from the worker's schema), so under the supervisor this
 * small server holds the port while the first worker loads: STARTING on the health check, 503
 * with Cog's `detail` on everything else, every connection closed after its answer so that none
 * is left open when the service takes the port over. What the supervisor does first (fetching
 * weights) shows in `setup.logs`, as Cog shows its setup's output. Returns undefined when the port cannot be
 * taken, or PORT is not one; the service will say why.
 */
export async function serveHealthWhileLoading(env: Readonly<Record<string, string | undefined>>, log: Logger): Promise<LoadingHealthServer | undefined> {
  let port: number;
  try {
    port = readSetting(env, 'PORT') ?? cogPort;
  } catch {
    return undefined;
  }
  const host = readSetting(env, 'HOST');
  const startedAt = cogTimestamp(performance.timeOrigin);
  let logs = '';
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const [status, body] =
      path === '/health-check' && (request.method === 'GET' || request.method === 'HEAD')
        ? [200, { status: 'STARTING', setup: { started_at: startedAt, completed_at: null, status: 'starting', logs } } satisfies CogHealthCheck]
        : [503, { detail: 'the model is loading (setup has not completed); GET /health-check says when it is READY' }];
    const json = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), connection: 'close' });
    response.end(json);
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (!listening) return undefined;
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  log.info(`health-check on http://${host}:${bound}/health-check answers STARTING while the model loads`);
  return {
    port: bound,
    log: (line) => {
      logs += `${line}\n`;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
