import type { ServerResponse } from 'node:http';
import type { HttpCore, Readiness, RouteHandler } from './protocol.js';
import { sendJson } from './respond.js';

// 200 or 503, as every orchestrator reads a probe; the body is the protocol's (none when undefined).
function sendProbe(response: ServerResponse, ok: boolean, body: unknown): void {
  if (body !== undefined) {
    sendJson(response, ok ? 200 : 503, body);
    return;
  }
  response.writeHead(ok ? 200 : 503, { 'content-length': 0 });
  response.end();
}

/**
 * A readiness route: 200 when the model can take work, else 503. The body is `body(readiness)`:
 * by default the readiness itself (`{"status", "reason"?}`); undefined answers with no body.
 * @example { method: 'GET', path: '/ping', probe: true, handler: readinessProbe(core, (readiness) => (readiness.status === 'ready' ? undefined : readiness)) }
 */
export function readinessProbe(core: Pick<HttpCore, 'readiness'>, body: (readiness: Readiness) => unknown = (readiness) => readiness): RouteHandler {
  return ({ response }) => {
    const readiness = core.readiness();
    sendProbe(response, readiness.status === 'ready', body(readiness));
  };
}

/**
 * A liveness route: 200 until an inference has run past its timeout in this process (run
 * directly, the process then ends), 503 after. The body is `body(live)`; undefined answers with no body.
 * @example { method: 'GET', path: '/v2/health/live', probe: true, handler: livenessProbe(core, (live) => ({ live })) }
 */
export function livenessProbe(core: Pick<HttpCore, 'live'>, body: (live: boolean) => unknown): RouteHandler {
  return ({ response }) => {
    const live = core.live();
    sendProbe(response, live, body(live));
  };
}
