import { createServer } from 'node:http';
import type { ErrorAnswer } from '../errors.js';
import { readSetting } from '../settings-table.js';
import type { Logger, ProbeTarget, WhileModelLoads } from '../types.js';

/** An answer of the server that holds a mode's port while the weights are fetched: a status and a JSON body. */
export interface StartingAnswer {
  status: number;
  body: unknown;
}

/**
 * How a protocol answers while it starts, given why it is not ready (the weights' last progress
 * line, then that the model loads): its readiness and liveness paths in its own terms, and every
 * other path with its error body (503, AI_ERR_NOT_READY).
 */
export interface StartingAnswers {
  /** The answer for `path`, or undefined for an error. */
  answer(path: string, reason: string): StartingAnswer | undefined;
  errorBody(answer: ErrorAnswer): unknown;
}

/**
 * Under the supervisor, a serving mode's service starts once the model is loaded (its routes come
 * from the worker's schema), and before that nothing listens on its port: a probe cannot tell a
 * container fetching gigabytes of weights from one that is gone. While WEIGHTS_URL is fetched (and
 * the model then loads), this small server holds the port: the readiness path says 503 with the
 * progress as its reason, liveness says alive, every other path 503; each connection is closed
 * after its answer, so that none is left open when the service takes the port over. Cog's
 * STARTING health check (modes/cog/loading-health.ts) is the same idea in Cog's terms. Resolves
 * undefined when the port cannot be taken, or PORT is not one: the service will say why.
 */
export async function serveWhileStarting(
  target: ProbeTarget,
  answers: StartingAnswers,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): Promise<WhileModelLoads | undefined> {
  let host: string;
  try {
    host = readSetting(env, 'HOST');
  } catch {
    return undefined;
  }
  let reason = 'starting: the model is loading';
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const { status, body } = answers.answer(path, reason) ?? {
      status: 503,
      body: answers.errorBody({ status: 503, headers: {}, code: 'AI_ERR_NOT_READY', message: `the model is not ready yet (${reason})` }),
    };
    const json = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), connection: 'close' });
    response.end(request.method === 'HEAD' ? undefined : json);
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(target.port, host, () => resolve(true));
  });
  if (!listening) return undefined;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : target.port;
  log.info(`readiness on http://${host}:${port}${target.path} answers 503 "starting", with the progress, while the weights are fetched and the model loads`);
  return {
    report(line) {
      reason = `starting: ${line.replace(/^weights: /, 'fetching weights: ')}`;
    },
    end() {
      return new Promise((resolve) => {
        server.close(() => resolve({ PORT: String(port) }));
        server.closeAllConnections();
      });
    },
  };
}

/** The readiness answer most protocols give: 503 `{"status": "starting", "reason"}`; `live` answers 200 with its body. */
export function startingStatus(readyPath: string, live?: { path: string; body: unknown }): StartingAnswers['answer'] {
  return (path, reason) =>
    path === readyPath ? { status: 503, body: { status: 'starting', reason } } : path === live?.path ? { status: 200, body: live.body } : undefined;
}
