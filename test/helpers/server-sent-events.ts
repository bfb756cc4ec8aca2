import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';

/** One server-sent event, its data parsed as JSON. */
export interface ServerSentEvent {
  event: string;
  id: string | undefined;
  data: any;
}

/** A response read event by event as it arrives, so a test can act between two events. */
export interface EventStreamReader {
  status: number;
  headers: IncomingHttpHeaders;
  /** The next event; undefined once the stream has ended. Comment lines (heartbeats) are skipped. */
  next(): Promise<ServerSentEvent | undefined>;
  /** Every event still to come, up to the end of the stream. */
  rest(): Promise<ServerSentEvent[]>;
  /** The body as it came when it is not an event stream (a refusal answered as JSON). */
  json(): Promise<any>;
}

/** Parses one block of the WHATWG `text/event-stream` format; undefined for a comment-only block. */
function parseEvent(block: string): ServerSentEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { event, id, data: JSON.parse(data.join('\n')) as unknown };
}

/** Sends a JSON body asking for `text/event-stream` (unless `headers` says otherwise) and reads the answer incrementally. */
export async function openEventStream(
  url: string,
  body: unknown,
  options: { method?: 'POST' | 'PUT'; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<EventStreamReader> {
  const response = await request(url, {
    method: options.method ?? 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...options.headers },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const chunks = response.body[Symbol.asyncIterator]();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<ServerSentEvent | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseEvent(block);
        if (event) return event;
        continue;
      }
      const step = await chunks.next();
      if (step.done) {
        if (buffer.trim() !== '') throw new Error(`the stream ended inside an event: ${JSON.stringify(buffer)}`);
        return undefined;
      }
      buffer += decoder.decode(step.value as Buffer, { stream: true });
    }
  };
  return {
    status: response.statusCode,
    headers: response.headers,
    next,
    rest: async () => {
      const events: ServerSentEvent[] = [];
      for (let event = await next(); event; event = await next()) events.push(event);
      return events;
    },
    json: () => response.body.json(),
  };
}
