import { serveHttp } from '../../src/http/lifecycle.js';
import type { ModeContext } from '../../src/types.js';
import { openApiDocument } from './openapi.js';
import { nativeRoutes } from './routes.js';

/**
 * MODE=http, the native API: the web page, the Python library's multipart endpoint and the
 * prediction API, on the shared HTTP core (src/http/), which owns the server, the limits, the
 * queue, readiness, metrics and shutdown. It is the example of a protocol mode: routes and a
 * format, nothing else.
 */
export function run(context: ModeContext): Promise<number> {
  return serveHttp(context, () => ({
    name: 'http',
    // Its handlers are done with a body once they settle (gather-pool.ts may reuse its buffer).
    handlersReleaseBodies: true,
    defaultPort: 5000,
    summary: 'web page /, API /predict, docs /docs',
    routes: nativeRoutes,
    openApi: (core) => openApiDocument(context.schema, core.model, context.output),
  }));
}
