import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AiIntegrationError } from '../errors.js';
import type { GatherOwner } from '../inputs/gather-buffer.js';
import { plural } from '../plural.js';

/** How fast a body must arrive while it holds an upload slot (BODY_IDLE_TIMEOUT_MS, MIN_BODY_BYTES_PER_SECOND, BODY_RATE_WINDOW_MS); 0 turns either check off. */
export interface BodyPace {
  idleMs: number;
  minBytesPerSecond: number;
  windowMs: number;
}

// Where a response keeps its reservation, for the router to say when the handler settled.
const reservationKey = Symbol('body reservation');
type ResponseWithReservation = ServerResponse & { [reservationKey]?: BodyReservation };

/** Why a body was cut off: it stalled, or it arrived below the rate floor. */
export type BodyTimeoutReason = 'idle' | 'rate';

/**
 * The memory all request bodies may hold at once (MAX_BUFFERED_BYTES) and how many bodies are
 * read at once (MAX_CONCURRENT_UPLOADS).
 *
 * Why: a body is read whole before the queue bound applies, so MAX_INPUT_BYTES bounds one request
 * and nothing bounds them together: 40 concurrent 95 MB uploads took the process out of memory.
 * A body that declares its length reserves it before a byte is read; one that streams (chunked, or
 * compressed: its decoded size is what is held) reserves as it arrives. Without room the request
 * is refused with 503 and Retry-After instead of being read. The bytes stay reserved until the
 * response closes (finished, or the connection gone), because the inputs built from them are held
 * until the inference is done; the upload slot is given back as soon as reading ends, and a body
 * that stalls or trickles has its reading ended with 408 (BodyPacer, below), so that it cannot
 * hold its slot for long.
 *
 * The hot path is two comparisons, two additions and one listener per request; with the body
 * timeouts on, also an entry in a list of at most MAX_CONCURRENT_UPLOADS bodies, and no timer.
 */
export class BodyBudget {
  private held = 0;
  private uploads = 0;
  private readonly pacer: BodyPacer | undefined;

  constructor(
    readonly maxBytes: number,
    readonly maxUploads: number,
    pace: BodyPace = { idleMs: 0, minBytesPerSecond: 0, windowMs: 1 },
  ) {
    if (pace.idleMs > 0 || pace.minBytesPerSecond > 0) this.pacer = new BodyPacer(pace);
  }

  /** Upload slots held now (bodies being read). */
  get uploadsInUse(): number {
    return this.uploads;
  }

  /** Bodies cut off with 408 since the start, by reason. */
  get timeouts(): Readonly<Record<BodyTimeoutReason, number>> {
    return this.pacer?.timeouts ?? { idle: 0, rate: 0 };
  }

  /**
   * Takes an upload slot and reserves `declared` bytes for the body of the request that `response`
   * answers, or throws AI_ERR_OVERLOADED when either has no room.
   */
  admit(declared: number, response: ServerResponse): BodyReservation {
    if (this.uploads >= this.maxUploads) {
      throw overloaded(`too many request bodies are being read at once (MAX_CONCURRENT_UPLOADS is ${this.maxUploads})`);
    }
    if (declared > this.maxBytes - this.held) throw this.noRoom(declared);
    this.uploads++;
    this.held += declared;
    const reservation = new BodyReservation(this, declared);
    response.once('close', () => reservation.release());
    (response as ResponseWithReservation)[reservationKey] = reservation;
    if (this.pacer && response.socket) this.pacer.watch(reservation, response.socket);
    return reservation;
  }

  /** The handler of the request `response` answers has settled: nothing of it reads its body's bytes any more once the response closes. */
  handlerSettled(response: ServerResponse): void {
    (response as ResponseWithReservation)[reservationKey]?.handlerSettled();
  }

  /** @internal Reserves `bytes` more when there is room. */
  tryTake(bytes: number): boolean {
    if (bytes > this.maxBytes - this.held) return false;
    this.held += bytes;
    return true;
  }

  /** @internal A body being read is no longer watched for its pace. */
  unwatch(reservation: BodyReservation): void {
    this.pacer?.forget(reservation);
  }

  /** @internal */
  give(bytes: number, upload: boolean): void {
    this.held -= bytes;
    if (upload) this.uploads--;
  }

  /** @internal */
  noRoom(wanted: number): AiIntegrationError {
    return overloaded(
      `the server holds ${plural(this.held, 'byte')} of request bodies and has no room for ${wanted} more (MAX_BUFFERED_BYTES is ${this.maxBytes})`,
    );
  }
}

/**
 * One request's share of the budget: its upload slot and the bytes its body holds. It is also the
 * owner of the buffers the body was gathered into: they may be reused once its handler has settled
 * and its response has closed (src/supervisor/gather-pool.ts).
 */
export class BodyReservation implements GatherOwner {
  private reading = true;
  private released = false;
  private handled = false;
  private gathered: (() => void)[] | undefined;
  private stopReading: ((error: AiIntegrationError) => void) | undefined;
  /** @internal The pacer's record of this body while it is read. */
  pace: PaceRecord | undefined;

  constructor(
    private readonly budget: BodyBudget,
    private bytes: number,
  ) {}

  /**
   * Makes the reservation cover `total` bytes of body; false when the budget has no room for the
   * rest (then `refusal` says so). A body that declared its length is covered from the start.
   */
  cover(total: number): boolean {
    if (total <= this.bytes || this.released) return true;
    if (!this.budget.tryTake(total - this.bytes)) return false;
    this.bytes = total;
    return true;
  }

  /** The 503 for a body that `cover` found no room for. */
  refusal(total: number): AiIntegrationError {
    return this.budget.noRoom(total - this.bytes);
  }

  /** How the reader stops with an error when the body stalls or trickles (it answers 408 and frees the slot). */
  onTooSlow(stop: (error: AiIntegrationError) => void): void {
    this.stopReading = stop;
  }

  /** @internal The pacer found the body too slow: the reader stops, or, without one, the connection is dropped. */
  tooSlow(error: AiIntegrationError, socket: Socket): void {
    if (this.stopReading) this.stopReading(error);
    else socket.destroy();
    this.endReading();
  }

  /** Reading has ended (the whole body, an error, or the client gone): the upload slot is free. */
  endReading(): void {
    if (!this.reading) return;
    this.reading = false;
    this.stopPacing();
    if (!this.released) this.budget.give(0, true);
  }

  /** The response has closed: the bytes, and the upload slot if reading never ended, are free. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.reading) this.stopPacing();
    this.budget.give(this.bytes, this.reading);
    this.reading = false;
    this.bytes = 0;
    this.releaseGathered();
  }

  whenDone(release: () => void): boolean {
    if (this.released && this.handled) return false;
    (this.gathered ??= []).push(release);
    return true;
  }

  /** @internal The request's handler has settled (the router says so). */
  handlerSettled(): void {
    this.handled = true;
    this.releaseGathered();
  }

  private releaseGathered(): void {
    if (!this.released || !this.handled || this.gathered === undefined) return;
    const gathered = this.gathered;
    this.gathered = undefined;
    for (const release of gathered) release();
  }

  private stopPacing(): void {
    this.stopReading = undefined;
    if (this.pace) this.budget.unwatch(this);
  }
}

function overloaded(reason: string): AiIntegrationError {
  return new AiIntegrationError('AI_ERR_OVERLOADED', `${reason}; retry later`);
}

/** @internal What the pacer knows of one body: when it began, when it last moved, and the bytes read at each recent tick. */
interface PaceRecord {
  socket: Socket;
  startedAt: number;
  lastBytes: number;
  lastProgressAt: number;
  samples: { at: number; bytes: number }[];
}

/**
 * Cuts off a body that holds its upload slot without sending: no byte for `idleMs`, or fewer than
 * `minBytesPerSecond` averaged over the last `windowMs` once the first window has passed.
 *
 * Why: a slot is held while its body is read, and MAX_CONCURRENT_UPLOADS trickles of one byte a
 * second held every slot until REQUEST_TIMEOUT_MS (300 s), refusing every other body meanwhile.
 *
 * One unref'd interval sweeps every body being read, and only while there is one; progress is the
 * socket's `bytesRead` (raw bytes, whatever the coding), so nothing runs per chunk. Time is
 * counted on a clock that advances at most two ticks per tick: a tick late because the event loop
 * was blocked (a large JSON parse, a model running in process) is time the server could not read,
 * which must not count against the client.
 */
class BodyPacer {
  readonly timeouts: Record<BodyTimeoutReason, number> = { idle: 0, rate: 0 };
  // An array, not a Set: a long-lived Set that every request enters and leaves keeps old copies of
  // its table that young collections take for live (see PendingRequests); this one holds at most
  // MAX_CONCURRENT_UPLOADS bodies.
  private readonly reading: BodyReservation[] = [];
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private clock = 0;
  private lastTick = 0;

  constructor(private readonly pace: BodyPace) {
    const shortest = Math.min(pace.idleMs > 0 ? pace.idleMs : Number.POSITIVE_INFINITY, pace.minBytesPerSecond > 0 ? pace.windowMs : Number.POSITIVE_INFINITY);
    this.tickMs = Math.min(1000, Math.max(10, Math.floor(shortest / 10)));
  }

  watch(reservation: BodyReservation, socket: Socket): void {
    if (this.timer === undefined) {
      this.lastTick = performance.now();
      this.timer = setInterval(() => this.sweep(), this.tickMs);
      this.timer.unref();
    }
    const bytes = socket.bytesRead;
    // On the clock, now: the last tick's time and what has passed since (up to a tick).
    const at = this.clock + Math.min(performance.now() - this.lastTick, this.tickMs);
    reservation.pace = { socket, startedAt: at, lastBytes: bytes, lastProgressAt: at, samples: [{ at, bytes }] };
    this.reading.push(reservation);
  }

  forget(reservation: BodyReservation): void {
    reservation.pace = undefined;
    const index = this.reading.indexOf(reservation);
    if (index !== -1) this.reading.splice(index, 1);
  }

  private sweep(): void {
    const now = performance.now();
    this.clock += Math.min(now - this.lastTick, 2 * this.tickMs);
    this.lastTick = now;
    const { idleMs, minBytesPerSecond, windowMs } = this.pace;
    // A copy: a body cut off leaves the list while it is walked.
    for (const reservation of [...this.reading]) {
      const record = reservation.pace;
      if (record === undefined) continue;
      const bytes = record.socket.bytesRead;
      if (bytes !== record.lastBytes) {
        record.lastBytes = bytes;
        record.lastProgressAt = this.clock;
      }
      const { samples } = record;
      samples.push({ at: this.clock, bytes });
      // Keep the newest sample at or before the window's start, and all after it.
      while (samples.length > 2 && samples[1]!.at <= this.clock - windowMs) samples.shift();
      if (idleMs > 0 && this.clock - record.lastProgressAt >= idleMs) {
        this.cut(
          reservation,
          'idle',
          `the request body stalled: no byte arrived for ${idleMs} ms (BODY_IDLE_TIMEOUT_MS); the connection is closed, send the request again`,
        );
      } else if (minBytesPerSecond > 0 && this.clock - record.startedAt >= windowMs) {
        const since = samples[0]!;
        const rate = ((bytes - since.bytes) * 1000) / Math.max(1, this.clock - since.at);
        if (rate < minBytesPerSecond) {
          this.cut(
            reservation,
            'rate',
            `the request body arrived at ${Math.floor(rate)} bytes a second over the last ${Math.round(this.clock - since.at)} ms, below the ${minBytesPerSecond} the server requires (MIN_BODY_BYTES_PER_SECOND); the connection is closed, send the request again`,
          );
        }
      }
    }
    if (this.reading.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private cut(reservation: BodyReservation, reason: BodyTimeoutReason, message: string): void {
    const { socket } = reservation.pace!;
    this.forget(reservation);
    this.timeouts[reason]++;
    reservation.tooSlow(new AiIntegrationError('AI_ERR_BODY_TIMEOUT', message), socket);
  }
}
