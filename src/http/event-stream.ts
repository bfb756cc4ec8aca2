import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptsExactly } from '../media-type.js';

/** Whether the client asks for server-sent events (`Accept: text/event-stream`, not through a wildcard). */
export function wantsEventStream(request: IncomingMessage): boolean {
  const accept = request.headers.accept;
  // Most requests do not ask: a look for the name comes before the parse.
  return accept !== undefined && accept.includes('text/event-stream') && acceptsExactly(accept, 'text/event-stream');
}

// Proxies and load balancers close a connection idle for 30-60 s: a comment line keeps a stream
// whose model is slow to yield alive, and clients ignore it.
const heartbeatMs = 15_000;

/**
 * A server-sent events response (the WHATWG `text/event-stream` format): opened with 200 and the
 * headers that keep proxies from buffering it, then one event per `send`, each `data` a line of
 * JSON (JSON text has no line breaks, so every event is one `data:` line).
 */
export class EventStream {
  private readonly heartbeat: NodeJS.Timeout;
  private nextId = 0;

  constructor(
    private readonly response: ServerResponse,
    headers: Record<string, string> = {},
  ) {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx buffers responses unless told not to.
      'x-accel-buffering': 'no',
      ...headers,
    });
    response.flushHeaders();
    this.heartbeat = setInterval(() => response.write(': keep-alive\n\n'), heartbeatMs).unref();
    response.once('close', () => clearInterval(this.heartbeat));
  }

  /** Sends one event; `id` counts the events, so a client can tell whether it missed one. */
  send(event: string, data: unknown): void {
    if (this.response.writableEnded || this.response.destroyed) return;
    this.response.write(`event: ${event}\nid: ${this.nextId++}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (!this.response.writableEnded) this.response.end();
  }
}
