/**
 * `ai-integration/http`: the HTTP core that every HTTP-speaking mode runs on, for a protocol mode
 * of your own. `serveHttp(context, makeProtocol)` gives it the server, the limits, the admission
 * queue, readiness, metrics, auth, the access log, `/openapi.json`, `/docs` and the drain; the
 * protocol declares routes and maps its format.
 */
export { serveHttp, startHttpService, type HttpServiceHandle, type ServiceControl } from './lifecycle.js';
export type { ErrorAnswer } from '../errors.js';
export { sendJson, sendText } from './respond.js';
export type { HttpCore, HttpProtocol, ModelInfo, RawInputs, Readiness, RouteContext, RouteDefinition, RouteHandler } from './protocol.js';
export type { Prediction } from './predict.js';
