import type { ServerResponse } from 'node:http';

// Proxies close a connection idle for 30-60 s: a comment line keeps a slow stream open.
const heartbeatMs = 15_000;

/**
 * OpenAI's server-sent events: `data: {chunk}` lines, then `data: [DONE]`. The writes of one turn
 * of the event loop go out together (a model yielding tokens in a burst costs one write, not one
 * each), and the first of a turn leaves at its end, so the first token waits for nothing else.
 */
export class OpenAiEventStream {
  private readonly heartbeat: NodeJS.Timeout;
  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.response.uncork();
  };

  constructor(private readonly response: ServerResponse) {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx buffers responses unless told not to.
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), heartbeatMs).unref();
    response.once('close', () => clearInterval(this.heartbeat));
  }

  /** Whether the client is still there to read. */
  get open(): boolean {
    return !this.response.writableEnded && !this.response.destroyed;
  }

  /** One event; `json` is the chunk's JSON text. */
  data(json: string): void {
    this.write(`data: ${json}\n\n`);
  }

  /** `data: [DONE]`, and the response ends. */
  done(): void {
    clearInterval(this.heartbeat);
    if (!this.open) return;
    this.response.end('data: [DONE]\n\n');
  }

  private write(text: string): void {
    if (!this.open) return;
    if (!this.corked) {
      this.corked = true;
      this.response.cork();
      process.nextTick(this.uncork);
    }
    this.response.write(text);
  }
}
