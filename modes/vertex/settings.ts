import { AiIntegrationError } from '../../src/errors.js';

/** The environment variables MODE=vertex reads, with what each sets; docs/reference/environment.md lists them. */
export const vertexVariables = {
  AIP_HTTP_PORT:
    'MODE=vertex: the port Vertex AI sends health checks and predictions to (Vertex sets it from --container-ports; wins over PORT; default PORT, else 8080)',
  AIP_HEALTH_ROUTE: 'MODE=vertex: the path of the health check, 200 when ready, 503 otherwise (Vertex sets it from --container-health-route; default /health)',
  AIP_STORAGE_URI:
    "MODE=vertex: the gs:// folder Vertex copied the model's --artifact-uri to; every object under it is fetched into WEIGHTS_DIR/aip-storage before the model loads, as WEIGHTS_URL is (weightsPath('aip-storage'))",
  AIP_PREDICT_ROUTE:
    'MODE=vertex: the path of POST {"instances": [...], "parameters": {...}} (Vertex sets it from --container-predict-route; default /predict)',
} as const;

/** Where MODE=vertex listens and which paths it serves. */
export interface VertexSettings {
  port: number;
  /** Which setting gave the port, for the log. */
  portFrom: 'AIP_HTTP_PORT' | 'PORT' | 'default';
  healthRoute: string;
  predictRoute: string;
}

/**
 * MAX_INPUT_BYTES when neither the variable nor the option says: 10 MiB, the largest body any Vertex
 * endpoint forwards (dedicated public, Private Service Connect and private endpoints; shared public
 * endpoints stop at 1.5 MB, so set MAX_INPUT_BYTES=1572864 there).
 */
export const vertexMaxInputBytes = 10 * 1024 * 1024;

/** The port when neither AIP_HTTP_PORT nor PORT says: Vertex's own default. */
export const defaultVertexPort = 8080;
export const defaultHealthRoute = '/health';
export const defaultPredictRoute = '/predict';

// The paths the HTTP core serves for every protocol: a Vertex route may not hide them.
const coreRoutes = ['/metrics', '/openapi.json', '/docs'];
// RFC 3986 path characters. No `{` or `}` (the router reads them as a template), no query, no fragment.
const pathCharacters = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

/**
 * Reads MODE=vertex's port and routes: AIP_HTTP_PORT, else `httpPort` (PORT or the `http.port`
 * option), else 8080; AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE, else /health and /predict. A value
 * Vertex could never send to (not a port, not a path, two routes the same, a route the core
 * serves) stops the program with exit code 3 and says why.
 * @example readVertexSettings({ AIP_HTTP_PORT: '8080', AIP_PREDICT_ROUTE: '/v1/endpoints/1/deployedModels/2:predict' }, undefined)
 */
export function readVertexSettings(env: Readonly<Record<string, string | undefined>>, httpPort: number | undefined): VertexSettings {
  const aipPort = readPort(env);
  const port = aipPort ?? httpPort ?? defaultVertexPort;
  const portFrom = aipPort !== undefined ? 'AIP_HTTP_PORT' : httpPort !== undefined ? 'PORT' : 'default';
  const healthRoute = readRoute(env, 'AIP_HEALTH_ROUTE') ?? defaultHealthRoute;
  const predictRoute = readRoute(env, 'AIP_PREDICT_ROUTE') ?? defaultPredictRoute;
  if (healthRoute === predictRoute) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE are both ${JSON.stringify(healthRoute)}; health checks and predictions need different paths (--container-health-route and --container-predict-route)`,
    );
  }
  return { port, portFrom, healthRoute, predictRoute };
}

function readPort(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const text = env.AIP_HTTP_PORT?.trim();
  if (text === undefined || text === '') return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `AIP_HTTP_PORT=${JSON.stringify(env.AIP_HTTP_PORT)} is not a port number from 1 to 65535`);
  }
  return port;
}

function readRoute(env: Readonly<Record<string, string | undefined>>, name: 'AIP_HEALTH_ROUTE' | 'AIP_PREDICT_ROUTE'): string | undefined {
  const route = env[name]?.trim();
  if (route === undefined || route === '') return undefined;
  const shown = `${name}=${JSON.stringify(env[name])}`;
  if (!route.startsWith('/')) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${shown} must be a path starting with /, such as /predict`);
  if (!pathCharacters.test(route)) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `${shown} is not a plain URL path: use letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ % / only (no spaces, ?, # or braces)`,
    );
  }
  // /docs/ also serves the docs page's assets.
  const taken = coreRoutes.find((core) => route === core || (core === '/docs' && route.startsWith('/docs/')));
  if (taken !== undefined) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `${shown} collides with ${taken}, which every HTTP mode serves (${coreRoutes.join(', ')}); choose another path`,
    );
  }
  return route;
}
