// The JSON access line is written by hand (pino cost the native API about 4 µs per request): it
// must stay valid JSON whatever a client sends, carry every field, and keep the shape of the
// runtime's own pino lines (level, time, pid first, msg last), so a collector parses one shape.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { createAccessLog, notePredictionId } from '../../src/http/access-log.js';
import { createLogger } from '../../src/logger.js';

function oneLine(options: {
  method: string;
  path: string;
  id: string;
  remote?: string;
  status?: number;
  finished?: boolean;
  predictionId?: string;
  bytesWritten?: number;
}): string {
  const lines: string[] = [];
  const log = createAccessLog('json', { write: (line: string) => lines.push(line) });
  const request = {
    method: options.method,
    socket: { bytesWritten: options.bytesWritten ?? 1500, remoteAddress: options.remote },
  } as unknown as IncomingMessage;
  const response = { writableFinished: options.finished ?? true, statusCode: options.status ?? 200 } as unknown as ServerResponse;
  if (options.predictionId !== undefined) notePredictionId(response, options.predictionId);
  log(request, response, options.path, options.id, performance.now() - 2.5, 1000);
  expect(lines).toHaveLength(1);
  const [line = ''] = lines;
  expect(line.endsWith('}\n')).toBe(true);
  expect(line.slice(0, -1)).not.toContain('\n');
  return line;
}

function runtimeLine(): Record<string, unknown> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  createLogger(stream, { LOG_FORMAT: 'json' }).info('listening');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('the JSON access line', () => {
  test('carries every field, with the runtime log line’s leading keys and msg last', () => {
    const entry = JSON.parse(oneLine({ method: 'POST', path: '/predict', id: 'req-1', remote: '127.0.0.1', predictionId: 'p-9' })) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'info',
      pid: process.pid,
      method: 'POST',
      path: '/predict',
      status: 200,
      bytes: 500,
      request_id: 'req-1',
      prediction_id: 'p-9',
      remote: '127.0.0.1',
      msg: 'POST /predict 200',
    });
    expect(entry.duration_ms).toBeGreaterThanOrEqual(2.5);
    expect(new Date(entry.time as string).toISOString()).toBe(entry.time);
    const runtime = runtimeLine();
    const keys = Object.keys(entry);
    expect(keys.slice(0, 3)).toEqual(Object.keys(runtime).slice(0, 3));
    expect(keys.at(-1)).toBe('msg');
    expect(typeof runtime.time).toBe(typeof entry.time);
  });

  test('a path and request id with quotes, backslashes and control characters stay inside their strings', () => {
    const path = '/a"b\\c\u0001\u001f\u007f\u2028';
    const id = 'x"},"status":999,"y":"\n';
    const entry = JSON.parse(oneLine({ method: 'GET', path, id, status: 404 })) as Record<string, unknown>;
    expect(entry.path).toBe(path);
    expect(entry.request_id).toBe(id);
    expect(entry.status).toBe(404);
    expect(entry.msg).toBe(`GET ${path} 404`);
  });

  test('an absent prediction id and remote address are left out; a closed connection is 499', () => {
    const entry = JSON.parse(oneLine({ method: 'GET', path: '/health/live', id: 'r', finished: false })) as Record<string, unknown>;
    expect(entry).not.toHaveProperty('prediction_id');
    expect(entry).not.toHaveProperty('remote');
    expect(entry.status).toBe(499);
  });

  test('an answer ended on a connection already closed wrote no byte: 499, not the status it was never able to send', () => {
    const entry = JSON.parse(oneLine({ method: 'POST', path: '/predict', id: 'r', status: 503, finished: true, bytesWritten: 1000 })) as Record<
      string,
      unknown
    >;
    expect(entry).toMatchObject({ status: 499, bytes: 0 });
  });
});
