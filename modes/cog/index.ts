import { serveHttp } from '../../src/http/lifecycle.js';
import type { ModeContext } from '../../src/types.js';
import { cogErrorBody } from './errors.js';
import { CogHealth } from './health.js';
import { cogPort } from './loading-health.js';
import { cogOpenApiDocument } from './openapi.js';
import { cogRoutes } from './routes.js';

/**
 * MODE=cog: Cog's prediction API on port 5000, so that the container runs where Cog containers
 * run (Replicate and others). A protocol on the shared HTTP core: Cog's routes and formats; the
 * core owns the server, the limits, the queue, readiness, metrics and shutdown.
 */
export function run(context: ModeContext): Promise<number> {
  // The model was loaded before the service starts: the process's start is when loading began.
  const health = new CogHealth(performance.timeOrigin, Date.now());
  context.engine.events.on('failed', (error) => health.engineFailed(error, Date.now()));
  return serveHttp(context, (control) => ({
    name: 'cog',
    // Its handlers are done with a body once they settle (gather-pool.ts may reuse its buffer).
    handlersReleaseBodies: true,
    defaultPort: cogPort,
    summary: 'Cog API: POST /predictions, PUT /predictions/{id}, GET /health-check, docs /docs',
    routes: (core) => cogRoutes(core, health, control),
    openApi: (core) => cogOpenApiDocument(context.schema, core.model, context.output),
    errorBody: cogErrorBody,
  }));
}
