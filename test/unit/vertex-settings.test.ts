import { describe, expect, test } from 'vitest';
import { AiIntegrationError } from '../../src/errors.js';
import { readVertexSettings, vertexVariables } from '../../modes/vertex/settings.js';
import { environmentVariables } from '../../src/environment-variables.js';

/** The error readVertexSettings throws for this environment: its code, exit code and message. */
function refusal(env: Record<string, string>): { code: string; exitCode: number; message: string } {
  try {
    readVertexSettings(env, undefined);
  } catch (error) {
    if (!(error instanceof AiIntegrationError)) throw error;
    return { code: error.code, exitCode: error.exitCode, message: error.message };
  }
  throw new Error(`no error for ${JSON.stringify(env)}`);
}

describe('MODE=vertex settings', () => {
  test('defaults when Vertex sets nothing: port 8080, /health and /predict', () => {
    expect(readVertexSettings({}, undefined)).toEqual({ port: 8080, portFrom: 'default', healthRoute: '/health', predictRoute: '/predict' });
  });

  test('the port: AIP_HTTP_PORT, else PORT (or the http.port option), else 8080', () => {
    expect(readVertexSettings({ AIP_HTTP_PORT: '7080' }, 5000)).toMatchObject({ port: 7080, portFrom: 'AIP_HTTP_PORT' });
    expect(readVertexSettings({ AIP_HTTP_PORT: ' 7080 ' }, undefined)).toMatchObject({ port: 7080, portFrom: 'AIP_HTTP_PORT' });
    expect(readVertexSettings({}, 5000)).toMatchObject({ port: 5000, portFrom: 'PORT' });
    expect(readVertexSettings({ AIP_HTTP_PORT: '' }, 0)).toMatchObject({ port: 0, portFrom: 'PORT' });
  });

  test("Vertex's own default routes (and any plain path) are taken as they are", () => {
    const env = { AIP_HEALTH_ROUTE: '/v1/endpoints/123/deployedModels/456', AIP_PREDICT_ROUTE: '/v1/endpoints/123/deployedModels/456:predict' };
    expect(readVertexSettings(env, undefined)).toMatchObject({ healthRoute: env.AIP_HEALTH_ROUTE, predictRoute: env.AIP_PREDICT_ROUTE });
    expect(readVertexSettings({ AIP_HEALTH_ROUTE: '/', AIP_PREDICT_ROUTE: '/docs-and-more' }, undefined)).toMatchObject({
      healthRoute: '/',
      predictRoute: '/docs-and-more',
    });
  });

  test('a bad value is the operator’s mistake: AI_ERR_INVALID_OPTION, exit code 3, a message saying what is wrong', () => {
    const cases: [Record<string, string>, string | RegExp][] = [
      [{ AIP_HTTP_PORT: 'http' }, 'AIP_HTTP_PORT="http" is not a port number from 1 to 65535'],
      [{ AIP_HTTP_PORT: '70000' }, 'AIP_HTTP_PORT="70000" is not a port number from 1 to 65535'],
      [{ AIP_HTTP_PORT: '0' }, 'AIP_HTTP_PORT="0" is not a port number from 1 to 65535'],
      [{ AIP_HTTP_PORT: '-1' }, 'AIP_HTTP_PORT="-1" is not a port number from 1 to 65535'],
      [{ AIP_HEALTH_ROUTE: 'health' }, 'AIP_HEALTH_ROUTE="health" must be a path starting with /, such as /predict'],
      [{ AIP_PREDICT_ROUTE: 'http://x/predict' }, 'AIP_PREDICT_ROUTE="http://x/predict" must be a path starting with /, such as /predict'],
      [
        { AIP_PREDICT_ROUTE: '/models/{name}:predict' },
        'AIP_PREDICT_ROUTE="/models/{name}:predict" is not a plain URL path: use letters, digits and - . _ ~ ! $ & \' ( ) * + , ; = : @ % / only (no spaces, ?, # or braces)',
      ],
      [{ AIP_HEALTH_ROUTE: '/health check' }, /^AIP_HEALTH_ROUTE="\/health check" is not a plain URL path/],
      [{ AIP_HEALTH_ROUTE: '/health?deep=1' }, /^AIP_HEALTH_ROUTE="\/health\?deep=1" is not a plain URL path/],
      [
        { AIP_HEALTH_ROUTE: '/ping', AIP_PREDICT_ROUTE: '/ping' },
        'AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE are both "/ping"; health checks and predictions need different paths (--container-health-route and --container-predict-route)',
      ],
      // The other route's default counts too.
      [
        { AIP_HEALTH_ROUTE: '/predict' },
        'AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE are both "/predict"; health checks and predictions need different paths (--container-health-route and --container-predict-route)',
      ],
      [
        { AIP_HEALTH_ROUTE: '/metrics' },
        'AIP_HEALTH_ROUTE="/metrics" collides with /metrics, which every HTTP mode serves (/metrics, /openapi.json, /docs); choose another path',
      ],
      [
        { AIP_PREDICT_ROUTE: '/openapi.json' },
        'AIP_PREDICT_ROUTE="/openapi.json" collides with /openapi.json, which every HTTP mode serves (/metrics, /openapi.json, /docs); choose another path',
      ],
      [
        { AIP_PREDICT_ROUTE: '/docs' },
        'AIP_PREDICT_ROUTE="/docs" collides with /docs, which every HTTP mode serves (/metrics, /openapi.json, /docs); choose another path',
      ],
      [
        { AIP_HEALTH_ROUTE: '/docs/swagger-ui.css' },
        'AIP_HEALTH_ROUTE="/docs/swagger-ui.css" collides with /docs, which every HTTP mode serves (/metrics, /openapi.json, /docs); choose another path',
      ],
    ];
    for (const [env, message] of cases) {
      const error = refusal(env);
      expect(error, JSON.stringify(env)).toMatchObject({ code: 'AI_ERR_INVALID_OPTION', exitCode: 3 });
      if (typeof message === 'string') expect(error.message).toBe(message);
      else expect(error.message).toMatch(message);
    }
  });

  test('every variable it reads is in the runtime’s environment table', () => {
    for (const name of Object.keys(vertexVariables)) expect(environmentVariables).toHaveProperty(name);
    expect(Object.keys(vertexVariables).sort()).toEqual(['AIP_HEALTH_ROUTE', 'AIP_HTTP_PORT', 'AIP_PREDICT_ROUTE', 'AIP_STORAGE_URI']);
  });
});
