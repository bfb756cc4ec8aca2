// Connections as a client, a proxy or an attacker makes them: raw sockets on loopback, so what a
// test writes is exactly what the server reads, byte for byte and pause for pause.
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One client connection: write bytes, read whole responses, see when the server closes it. */
export class RawConnection {
  private received = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private onData: (() => void) | undefined;
  closed = false;
  readonly whenClosed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      const onData = this.onData;
      this.onData = undefined;
      onData?.();
      this.waiting?.();
    });
    socket.on('error', () => {}); // a reset is a close, which the tests look at
    this.whenClosed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.waiting?.();
        resolve();
      }),
    );
  }

  static open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Calls `callback` as soon as the next bytes arrive (the first of a response), before they are parsed. */
  onNextData(callback: () => void): void {
    this.onData = callback;
  }

  /** The next whole response (its body by Content-Length, or up to the close); fails if the connection closes first. */
  async response({ head = false, limitMs = 20_000 } = {}): Promise<RawResponse> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const end = this.received.indexOf('\r\n\r\n');
      if (end !== -1) {
        const [statusLine, ...lines] = this.received.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
        const length = head ? 0 : headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
        const available = this.received.length - end - 4;
        if (length !== undefined ? available >= length : this.closed) {
          const body = this.received.subarray(end + 4, end + 4 + (length ?? available)).toString('utf8');
          this.received = this.received.subarray(end + 4 + (length ?? available));
          return { status: Number(statusLine!.split(' ')[1]), headers, body };
        }
      }
      if (this.closed) throw new Error(`the connection closed without a whole response; received ${JSON.stringify(this.received.toString('latin1'))}`);
      if (Date.now() > deadline) throw new Error(`no whole response within ${limitMs} ms; received ${JSON.stringify(this.received.toString('latin1'))}`);
      // Woken by the next bytes or the close, or at the deadline.
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1);
      });
      clearTimeout(timer);
    }
  }

  /** The next whole response with its JSON body parsed. */
  async jsonResponse(limitMs = 30_000): Promise<{ status: number; headers: Record<string, string>; body: any }> {
    const response = await this.response({ limitMs });
    return { ...response, body: JSON.parse(response.body) };
  }

  /** Everything received that no response() has taken. */
  get unread(): string {
    return this.received.toString('latin1');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Resolves once the server has read every byte sent to it before the call (a partial request
 * head, which gives no answer to wait for): it answers `GET path` on a new connection. The bytes
 * were in its socket buffers before that request was sent, and it reads every socket the kernel
 * reports ready in the same turn of its event loop, so none is left unread when it answers.
 * @example keptAlive.write('POST /predict HTTP/1.1\r\nhost: x\r\n'); await everythingSentIsRead(url, '/health/live');
 */
export async function everythingSentIsRead(url: string, path: string): Promise<void> {
  const connection = await RawConnection.open(url);
  try {
    connection.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
    await connection.response();
  } finally {
    connection.destroy();
  }
}
