import type { ServerResponse } from 'node:http';

// Proxies close a connection idle for 30-60 s: a comment line keeps a slow stream open.
const heartbeatMs = 15_000;

/**
 * OpenAI's server-sent events: `data: {chunk}` lines, then `data: [DONE]`. An event goes out at
 * once (to the socket, uncorked) when none is waiting, so a first token waits for nothing; the events that follow it within
 * the same turn of the event loop (a model yielding tokens in a burst) are joined into one write
 * at the turn's end: a socket write per token, or a writev of a thousand small buffers, cost more
 * than the tokens themselves.
 */
export class OpenAiEventStream {
  private readonly heartbeat: NodeJS.Timeout;
  /** Events written since the last flush, joined; undefined when nothing waits and no flush is due. */
  private pending: string | undefined;
  private readonly flush = () => {
    const text = this.pending;
    this.pending = undefined;
    if (text && this.open) this.response.write(text);
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

  /** One event per JSON text given, written together. */
  data(json: string, ...more: string[]): void {
    this.write(more.length === 0 ? `data: ${json}\n\n` : [json, ...more].map((text) => `data: ${text}\n\n`).join(''));
  }

  /** `data: [DONE]`, and the response ends. */
  done(): void {
    clearInterval(this.heartbeat);
    if (!this.open) return;
    const text = `${this.pending ?? ''}data: [DONE]\n\n`;
    this.pending = undefined;
    this.response.end(text);
  }

  private write(text: string): void {
    if (!this.open) return;
    if (this.pending !== undefined) {
      this.pending += text;
      return;
    }
    this.response.write(text);
    // node:http corks the socket until the next tick after a write: within a burst of tokens made
    // without a turn of the event loop, even the first would wait for the last.
    this.response.socket?.uncork();
    this.pending = '';
    process.nextTick(this.flush);
  }
}
