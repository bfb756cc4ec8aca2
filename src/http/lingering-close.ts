import type { Socket } from 'node:net';

/** How long a refused upload's connection keeps reading, and dropping, what its client still sends. */
const graceMs = 2000;

/**
 * Makes node:http close this connection gently once its `Connection: close` answer is written.
 *
 * Why: a body refused before it is read (413 by its length, 503 without room, 413 while it
 * streams) is answered while the client may still be sending it. node:http closes the socket as
 * soon as that answer is written (`socket.destroySoon()`), and closing a socket with unread bytes
 * makes the kernel reset the connection: many clients (undici with a streamed body, Python's
 * http.client) then report EPIPE or ECONNRESET instead of the answer they were sent. So, as
 * RFC 9112 section 9.6 advises, the server ends its sending side first and keeps reading
 * (the request, resumed, drops what arrives) until the client closes too, or the grace is over.
 */
export function closeGently(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    const timer = setTimeout(() => this.destroy(), graceMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}
