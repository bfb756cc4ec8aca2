import type { ServerResponse } from 'node:http';
import { AiIntegrationError } from '../errors.js';
import { plural } from '../plural.js';

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
 * until the inference is done; the upload slot is given back as soon as reading ends.
 *
 * The hot path is two comparisons, two additions and one listener per request.
 */
export class BodyBudget {
  private held = 0;
  private uploads = 0;

  constructor(
    readonly maxBytes: number,
    readonly maxUploads: number,
  ) {}

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
    return reservation;
  }

  /** @internal Reserves `bytes` more when there is room. */
  tryTake(bytes: number): boolean {
    if (bytes > this.maxBytes - this.held) return false;
    this.held += bytes;
    return true;
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

/** One request's share of the budget: its upload slot and the bytes its body holds. */
export class BodyReservation {
  private reading = true;
  private released = false;

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

  /** Reading has ended (the whole body, an error, or the client gone): the upload slot is free. */
  endReading(): void {
    if (!this.reading) return;
    this.reading = false;
    if (!this.released) this.budget.give(0, true);
  }

  /** The response has closed: the bytes, and the upload slot if reading never ended, are free. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.bytes, this.reading);
    this.reading = false;
    this.bytes = 0;
  }
}

function overloaded(reason: string): AiIntegrationError {
  return new AiIntegrationError('AI_ERR_OVERLOADED', `${reason}; retry later`);
}
