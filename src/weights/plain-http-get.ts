import { connect } from 'node:net';
import type { Flow, Receiver } from './receive.js';

/** An answer this client does not take (a framing or a head it does not parse): undici takes the request instead. */
export class UnusualAnswerError extends Error {}

/** What `plainGet` needs besides the request: the buffer every read of the socket lands in, and the idle timeout. */
export interface PlainGetOptions {
  /** Reused for every read: a chunk handed to the receiver is valid only until its `data` call returns. */
  buffer: Buffer;
  /** Connecting, the head and each read of the body may take this long (undici's headersTimeout and bodyTimeout). */
  timeoutMs: number;
}

// A head longer than this is not an object store's: undici's limit is 16 KiB by default.
const maxHeadBytes = 64 * 1024;
const headEnd = Buffer.from('\r\n\r\n');

/** Whether `plainGet` can fetch `url` at all: plain http:// without credentials in it; anything else goes to undici. */
export function isPlainHttp(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && parsed.username === '' && parsed.password === '';
}

/**
 * GETs an http:// URL over a connection of its own (`Connection: close`) and hands the answer to
 * `receiver` as `receive` does, but with no HTTP library between: the socket reads straight into
 * `options.buffer` (net's `onread`), so a gigabyte costs no allocation per read, no garbage to
 * collect and no parser thread, only the reads themselves, as curl does. It takes only the plain
 * answers object stores give: a status line, headers, and a body of Content-Length bytes; a head
 * it does not parse, or a success (2xx) in another framing (chunked), rejects with
 * UnusualAnswerError before `receiver.start` (an error answer reaches `start` however it is
 * framed, and its body is not read). Resolves when the body's last byte was handed over; rejects when the
 * connection failed or ended early, a read waited more than `timeoutMs`, the receiver threw, or
 * `signal` aborted.
 */
export function plainGet(url: string, headers: Record<string, string>, signal: AbortSignal, receiver: Receiver, options: PlainGetOptions): Promise<void> {
  const { hostname, host, port, pathname, search } = new URL(url);
  const lines = [`GET ${pathname}${search} HTTP/1.1`, `host: ${host}`, 'accept-encoding: identity', 'connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const requestHead = `${lines.join('\r\n')}\r\n\r\n`;

  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let head: Buffer | undefined = Buffer.alloc(0);
    let remaining = 0;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => settle(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    const body = (chunk: Buffer) => {
      if (chunk.length > remaining) throw new Error(`the server sent more than the ${remaining} bytes its Content-Length said were left`);
      remaining -= chunk.length;
      if (chunk.length > 0) receiver.data(chunk);
      if (remaining === 0) settle();
    };
    const flow: Flow = { pause: () => socket.pause(), resume: () => socket.resume() };
    // Bytes of the head(s) gather (copied: the read buffer is reused) until the blank line; the rest of that read is body.
    const headBytes = (chunk: Buffer) => {
      let gathered = Buffer.concat([head as Buffer, chunk]);
      for (;;) {
        const end = gathered.indexOf(headEnd);
        if (end < 0) {
          if (gathered.length > maxHeadBytes) throw new UnusualAnswerError(`the answer's head is longer than ${maxHeadBytes} bytes`);
          head = gathered;
          return;
        }
        const answer = parseHead(gathered.subarray(0, end).toString('latin1'));
        gathered = gathered.subarray(end + headEnd.length);
        // 100 Continue and other interim answers come before the real one.
        if (answer.status >= 100 && answer.status < 200) continue;
        // An error answer's body is not read, however it is framed (an error page is often chunked): its status is what counts.
        const length = bodyLength(answer.status, answer.headers);
        if (length instanceof UnusualAnswerError && answer.status < 300) throw length;
        head = undefined;
        receiver.start(answer.status, answer.headers, flow);
        if (length instanceof UnusualAnswerError) throw length;
        remaining = length;
        body(gathered);
        return;
      }
    };

    const socket = connect({
      host: hostname.replace(/^\[(.*)\]$/, '$1'),
      port: port === '' ? 80 : Number(port),
      noDelay: true,
      onread: {
        buffer: options.buffer,
        callback: (bytes) => {
          if (settled) return false;
          try {
            const chunk = options.buffer.subarray(0, bytes);
            if (head === undefined) body(chunk);
            else headBytes(chunk);
          } catch (error) {
            settle(error);
            return false;
          }
          return true;
        },
      },
    });
    socket.setTimeout(options.timeoutMs, () =>
      settle(new Error(`no byte came for ${options.timeoutMs / 1000} s (${head === undefined ? 'the body stalled' : 'no answer'})`)),
    );
    socket.on('connect', () => socket.write(requestHead));
    socket.on('error', (error) => settle(error));
    socket.on('end', () =>
      settle(
        new Error(
          head === undefined ? `the connection closed with ${remaining} bytes of the answer left` : 'the connection closed before the answer ended its head',
        ),
      ),
    );
    socket.on('close', () => settle(new Error('the connection closed')));
  });
}

interface AnswerHead {
  status: number;
  /** By lower-case name; a name given twice has its values joined with ", " (RFC 9110 5.3). */
  headers: Record<string, string>;
}

/** The status line and headers of an HTTP/1.x answer; anything this client would have to guess at is unusual. */
export function parseHead(text: string): AnswerHead {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!status) throw new UnusualAnswerError(`the answer's status line is ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    // A header folded onto the next line (obsolete), or no name before the colon.
    const field = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!field) throw new UnusualAnswerError(`the answer has a header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = (field[1] as string).toLowerCase();
    const value = field[2] as string;
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(status[1]), headers };
}

/** How many body bytes follow the head: only Content-Length framing is taken (what a file server sends). */
function bodyLength(status: number, headers: Record<string, string>): number | UnusualAnswerError {
  if (status === 204 || status === 304) return 0;
  if (headers['transfer-encoding'] !== undefined) return new UnusualAnswerError(`the answer is sent with Transfer-Encoding ${headers['transfer-encoding']}`);
  const lengths = new Set((headers['content-length'] ?? '').split(',').map((value) => value.trim()));
  const [length] = lengths;
  if (lengths.size !== 1 || length === undefined || !/^\d{1,15}$/.test(length)) {
    return new UnusualAnswerError(
      headers['content-length'] === undefined ? 'the answer has no Content-Length' : `the answer's Content-Length is ${headers['content-length']}`,
    );
  }
  return Number(length);
}
