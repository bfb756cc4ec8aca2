import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AiIntegrationError } from '../errors.js';
import type { RouteDefinition } from './protocol.js';
import type { RouteMatch } from './router.js';

/** Where the page, the docs and the token prompt keep the token for the browser tab's session. */
export const tokenStorageKey = 'ai-integration-token';

/** The path of the core's Prometheus metrics: a probe (reachable past MAX_CONNECTIONS), yet behind the token. */
export const metricsPath = '/metrics';

/**
 * The bearer-token check of AUTH_TOKEN. Open without the token: the liveness and readiness
 * probes (a protocol's `probe` routes, which orchestrators call without credentials) and the docs'
 * static assets (Swagger UI's own files, the same in every container). /metrics is a probe for
 * the connection limits, but it tells who calls the model how often: Prometheus sends the token.
 */
export class BearerAuth {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /**
   * Whether a request may reach `match` without the token: a probe read (GET or HEAD of a `probe`
   * route), not any probe route: Cog's POST /shutdown is one too, so that it works while draining.
   */
  static isOpen(method: string | undefined, match: RouteMatch | undefined, docsAsset: boolean): boolean {
    if (docsAsset) return true;
    if (!match?.probe || (method !== 'GET' && method !== 'HEAD')) return false;
    return isOpenRoute(match.methods.get('GET'));
  }

  /** Whether the request carries the token; compared in constant time over equal-length digests. */
  allows(request: IncomingMessage): boolean {
    const header = request.headers.authorization;
    if (typeof header !== 'string') return false;
    const found = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return found !== null && timingSafeEqual(digest(found[1]!), this.expected);
  }

  /**
   * The refusal: 401 with `WWW-Authenticate: Bearer`, in the protocol's error shape, or, for a
   * browser opening a page, the prompt that asks for the token once and opens the page with it.
   */
  refuse(request: IncomingMessage, response: ServerResponse, answerError: (response: ServerResponse, error: unknown) => void): void {
    const given = request.headers.authorization !== undefined;
    response.setHeader('www-authenticate', given ? 'Bearer error="invalid_token"' : 'Bearer');
    if ((request.method === 'GET' || request.method === 'HEAD') && prefersHtml(request)) {
      response.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(tokenPrompt), 'cache-control': 'no-store' });
      response.end(tokenPrompt);
      return;
    }
    answerError(
      response,
      new AiIntegrationError(
        'AI_ERR_UNAUTHORIZED',
        given ? 'the bearer token is not the one this service expects' : 'this service needs a bearer token: send Authorization: Bearer <token>',
      ),
    );
  }
}

const isOpenRoute = (route: RouteDefinition | undefined) => route !== undefined && route.probe === true && route.method === 'GET' && route.path !== metricsPath;

// One-shot hashing: no Hash object per request.
const digest = (token: string) => hash('sha256', token, 'buffer');

// A browser's navigation asks for text/html first; an API client (or fetch) does not.
function prefersHtml(request: IncomingMessage): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.startsWith('text/html');
}

/**
 * Adds the bearer scheme to an OpenAPI document, required by every operation but the open ones
 * (the probes), so that Swagger UI's Authorize button and generated clients know of the token.
 */
export function withBearerScheme(document: object, routes: readonly RouteDefinition[]): object {
  const copy = structuredClone(document) as {
    components?: { securitySchemes?: Record<string, unknown> };
    security?: unknown;
    paths?: Record<string, Record<string, { security?: unknown }>>;
  };
  copy.components = {
    ...copy.components,
    securitySchemes: {
      ...copy.components?.securitySchemes,
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'The AUTH_TOKEN the service was started with.' },
    },
  };
  copy.security = [{ bearerAuth: [] }];
  for (const route of routes) {
    if (!isOpenRoute(route)) continue;
    const operation = copy.paths?.[route.path]?.[route.method.toLowerCase()];
    if (operation) operation.security = [];
  }
  return copy;
}

// The 401 page a browser gets: it asks for the token once per tab (sessionStorage), then fetches
// the page it was opening with the token and shows it in place. The page's own script (and the
// docs' request interceptor) send the stored token with every request they make.
const tokenPrompt = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>Token required</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; display: grid; place-items: center; min-height: 100vh; }
form { max-width: 24rem; padding: 1.5rem; }
input { display: block; width: 100%; box-sizing: border-box; font: inherit; padding: .5rem; margin: .25rem 0 1rem; }
button { font: inherit; padding: .5rem 1rem; }
.error { color: #c62828; }
</style>
</head>
<body>
<form id="token-form" hidden>
<h1>Token required</h1>
<p>This service asks for its access token. It is kept in this tab only.</p>
<label for="token">Access token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required>
<p class="error" id="token-error" role="alert" hidden>That token was refused; check it and try again.</p>
<button type="submit" id="token-submit">Open</button>
</form>
<script>
(() => {
'use strict';
const key = ${JSON.stringify(tokenStorageKey)};
const form = document.getElementById('token-form');
async function open(token) {
  const response = await fetch(location.href, { headers: { authorization: 'Bearer ' + token, accept: 'text/html' }, cache: 'no-store' });
  if (response.status === 401) return false;
  const html = await response.text();
  document.open();
  document.write(html);
  document.close();
  return true;
}
function ask(refused) {
  document.getElementById('token-error').hidden = !refused;
  form.hidden = false;
  document.getElementById('token').focus();
}
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = document.getElementById('token').value.trim();
  if (!token) return;
  // Stored first: the page opened with it (the docs) asks for more with the token at once.
  sessionStorage.setItem(key, token);
  if (!(await open(token))) {
    sessionStorage.removeItem(key);
    ask(true);
  }
});
const stored = sessionStorage.getItem(key);
if (stored) open(stored).then((opened) => { if (!opened) { sessionStorage.removeItem(key); ask(false); } }, () => ask(false));
else ask(false);
})();
</script>
</body>
</html>
`;
