/** The OpenAPI path items of the routes the core adds to every protocol's own: `/metrics` and `/openapi.json`. */
export const coreOpenApiPaths = {
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': {} } } },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  },
};
