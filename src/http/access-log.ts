import type { IncomingMessage, ServerResponse } from 'node:http';
import { LineSink } from './line-sink.js';
import type { LogFormat } from '../settings-parts/access.js';

const predictionIdKey = Symbol('ai-integration.predictionId');
type WithPrediction = ServerResponse & { [predictionIdKey]?: string };

/**
 * Names the prediction a response answers, for its access-log line (a route that creates or
 * reads a prediction calls it; a request without one logs none).
 */
export function notePredictionId(response: ServerResponse, id: string): void {
  (response as WithPrediction)[predictionIdKey] = id;
}

/**
 * Writes a request's access-log line, called when its response closes (answered, or the
 * connection closed first). `started` is its performance.now() on arrival; `bytesBefore` the
 * connection's bytes written then (a keep-alive connection carries many requests).
 */
export type AccessLog = (request: IncomingMessage, response: ServerResponse, path: string, id: string, started: number, bytesBefore: number) => void;

/** Where access-log lines go: a LineSink, or a test's collector. */
export interface LineDestination {
  write(line: string): unknown;
}

/** How long an access-log line may wait for others to be written with it. */
const accessLogGatherMs = 10;

/**
 * The access log on stderr: one line per request (method, path without its query, status, bytes
 * sent with the headers, duration, request id, prediction id), text or JSON as LOG_FORMAT says.
 * Lines go out in batches, at most 10 ms late, that never block the event loop (LineSink), and
 * what waits is written when the process exits.
 */
export function createAccessLog(format: LogFormat, destination: LineDestination = new LineSink(2, undefined, accessLogGatherMs)): AccessLog {
  const json = format === 'json';
  return (request, response, path, id, started, bytesBefore) => {
    const socket = request.socket;
    const bytes = socket.bytesWritten - bytesBefore;
    // A connection that closed before the answer was complete: nginx's 499. An answer "finished"
    // on a socket already closed reached no one (none of its bytes were written): its status was
    // never sent either.
    const status = response.writableFinished && bytes > 0 ? response.statusCode : 499;
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const predictionId = (response as WithPrediction)[predictionIdKey];
    const method = request.method ?? '';
    if (json) {
      destination.write(jsonAccessLine(method, path, status, bytes, durationMs, id, predictionId, socket.remoteAddress));
    } else {
      destination.write(
        `${socket.remoteAddress ?? '-'} "${method} ${escapePath(path)}" ${status} ${bytes} ${durationMs}ms request_id=${id}${predictionId === undefined ? '' : ` prediction_id=${predictionId}`}\n`,
      );
    }
  };
}

// A path with a quote or a control character (it arrived percent-decoded by no one, but a
// client may send anything) must not break the line's shape.
const escapePath = (path: string) => (/["\\\x00-\x1f\x7f]/.test(path) ? JSON.stringify(path).slice(1, -1) : path);

/**
 * The JSON access line, in the shape of the runtime's pino lines (level, time, pid first, msg
 * last; an absent field left out), written out directly: through pino each line cost the native
 * API about 4 µs more than the text line (bench/access.mjs), several times what this costs.
 * JSON.stringify quotes what a client chose (the path, the request id).
 */
function jsonAccessLine(
  method: string,
  path: string,
  status: number,
  bytes: number,
  durationMs: number,
  id: string,
  predictionId: string | undefined,
  remote: string | undefined,
): string {
  return (
    `{"level":"info","time":"${new Date().toISOString()}","pid":${process.pid},"method":${JSON.stringify(method)},"path":${JSON.stringify(path)},` +
    `"status":${status},"bytes":${bytes},"duration_ms":${durationMs},"request_id":${JSON.stringify(id)}` +
    `${predictionId === undefined ? '' : `,"prediction_id":${JSON.stringify(predictionId)}`}${remote === undefined ? '' : `,"remote":${JSON.stringify(remote)}`}` +
    `,"msg":${JSON.stringify(`${method} ${path} ${status}`)}}\n`
  );
}
