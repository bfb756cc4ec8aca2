import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Connections kept beyond MAX_CONNECTIONS for the probe routes. */
export const probeSlots = 8;

/** The routes a connection past MAX_CONNECTIONS may still use: probes and metrics. */
export const probeRoutes: ReadonlySet<string> = new Set(['/health', '/health/live', '/metrics']);

interface ConnectionState {
  /** Requests on this connection that have arrived and whose response has not closed. */
  busy: number;
  /** Past MAX_CONNECTIONS: it may only use the probe routes. */
  probesOnly: boolean;
  /** The responses of its requests in progress (more than one when the client pipelines). */
  open: ServerResponse[];
}

// Marks a response counted in flight (it arrived before the drain began).
const counted = Symbol('ai-integration.countedInFlight');
type Counted = ServerResponse & { [counted]?: boolean };

/**
 * Bounds open connections and counts the requests in flight.
 *
 * node:http keeps every connection it accepts until a timeout ends it, so a client that opens
 * sockets and dribbles their headers (slowloris) can hold them all, and then the readiness probe
 * cannot connect and the orchestrator takes a healthy pod out of service. `server.maxConnections`
 * would refuse the probe along with the attacker. So past the cap a few connections are still
 * taken for the probe routes only, and when those are full too, the connection that has gone
 * longest without a request in progress (a stalled or idle keep-alive socket: closing it costs its
 * client a reconnect, never an answer) is closed to make room. Only when every connection is in
 * the middle of a request is a new one refused.
 *
 * The requests in flight are counted here too because the drain on SIGTERM must wait for them:
 * a request whose body is still uploading is not in the inference scheduler yet.
 *
 * The hot path is a Map lookup and a Set update per request and per connection; no timers.
 */
export class ConnectionGuard {
  private readonly connections = new Map<Socket, ConnectionState>();
  // Connections with no request in progress, the longest idle first (a Set keeps insertion order).
  private readonly idle = new Set<Socket>();
  private regular = 0;
  private extra = 0;
  // Requests that arrived before the drain and whose response has not closed. A count and a mark
  // on each response, not a Set of them: a Set every request enters and leaves would have every
  // request promoted to the old generation (see PendingRequests).
  private inFlight = 0;
  private drainWaiters: (() => void)[] | undefined;

  constructor(
    server: Server,
    private readonly maxConnections: number,
  ) {
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /** Whether `drain()` has been called: requests arriving now are refused. */
  get draining(): boolean {
    return this.drainWaiters !== undefined;
  }

  /** Requests that arrived before the drain began and whose response has not closed. */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Counts a request in flight until `end` is called for it (when its response closes: answered,
   * or the client went away). Answers whether its connection is past MAX_CONNECTIONS, so that it
   * may only use the probe routes. The server's one close listener per request calls `end`.
   */
  begin(request: IncomingMessage, response: ServerResponse): boolean {
    const socket = request.socket;
    const state = this.connections.get(socket);
    // Requests arriving during the drain are refused or are probes: the drain does not wait for
    // them, or a steady stream of probes could hold it open until its deadline.
    if (this.drainWaiters === undefined) {
      this.inFlight++;
      (response as Counted)[counted] = true;
    }
    if (state) {
      state.busy++;
      state.open.push(response);
      this.idle.delete(socket);
    }
    return state?.probesOnly ?? false;
  }

  /** The request `begin` counted has its response closed. */
  end(request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    const state = this.connections.get(socket);
    if (state) {
      const index = state.open.indexOf(response);
      if (index !== -1) state.open.splice(index, 1);
      // Back at the end of the idle order: the connection is idle from now on.
      if (--state.busy === 0) this.idle.add(socket);
    }
    if (!(response as Counted)[counted]) return;
    (response as Counted)[counted] = false;
    if (--this.inFlight === 0 && this.drainWaiters) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** From now on, requests count as arriving during shutdown; resolves when none from before is in flight. */
  drain(): Promise<void> {
    this.drainWaiters ??= [];
    // Answers still to be written end their connection, so that no client sends another request
    // on it while it is being closed.
    for (const state of this.connections.values()) for (const response of state.open) if (!response.headersSent) response.setHeader('connection', 'close');
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters!.push(resolve));
  }

  /** The responses of requests in progress that have not been answered yet (the drain's deadline answers them). */
  unanswered(): ServerResponse[] {
    const found: ServerResponse[] = [];
    for (const state of this.connections.values()) for (const response of state.open) if (!response.writableEnded) found.push(response);
    return found;
  }

  private admit(socket: Socket): void {
    if (this.regular >= this.maxConnections && this.extra >= probeSlots && !this.evictLongestIdle()) {
      socket.destroy();
      return;
    }
    const probesOnly = this.regular >= this.maxConnections;
    if (probesOnly) this.extra++;
    else this.regular++;
    this.connections.set(socket, { busy: 0, probesOnly, open: [] });
    this.idle.add(socket);
    socket.once('close', () => this.forget(socket));
  }

  private evictLongestIdle(): boolean {
    const socket = this.idle.values().next().value;
    if (socket === undefined) return false;
    this.forget(socket);
    socket.destroy();
    return true;
  }

  private forget(socket: Socket): void {
    const state = this.connections.get(socket);
    if (!state) return;
    this.connections.delete(socket);
    this.idle.delete(socket);
    if (state.probesOnly) this.extra--;
    else this.regular--;
  }
}
