/**
 * Gather buffers the supervisor reuses from request to request, for bodies (multipart files,
 * binary bodies) from 64 KiB up to the shared-memory threshold.
 *
 * Why: under the supervisor a body is gathered, written to the worker's byte stream and dropped.
 * A fresh Buffer for each one is fresh pages from the kernel and, worse, external memory that
 * makes V8 run a full mark-compact about every 64 MB of bodies: with 1.45 MB images, one every
 * twenty requests, a fifth of the supervisor's CPU (bench/large-uploads.mjs; perf showed
 * ConcurrentMarking at the top). The model never sees these buffers (the worker reads its own
 * copy from the stream), so the supervisor knows when each is done with, and can reuse it.
 *
 * A buffer goes back to the pool only when every holder has said it is done:
 * - the HTTP exchange that gathered it (its handler has settled and its response has closed);
 * - each queued job that refers to it (the admission queue, until the engine takes the job);
 * - each supervised request that refers to it, until a worker answered it having read all of it
 *   (a result, a failure or a throw, after one send). A request canceled, timed out, re-sent or
 *   lost with its worker `discard`s instead: a write of it may still be under way, so the buffer
 *   is left to the garbage collector and never reused.
 * The HTTP exchange says so only for a protocol whose handlers are done with a body once they
 * settle (HttpProtocol.handlersReleaseBodies: the built-in modes); a mode of one's own may keep
 * the bytes, and its buffers are never reused. A walk of the inputs that meets what it cannot see
 * into keeps every buffer lent at that moment out of the pool for good.
 *
 * The free buffers are bounded (maxFreeBytes); the lent ones by the body budget (MAX_BUFFERED_BYTES),
 * each at most a quarter longer than its body.
 */
import type { GatherAllocator, GatherBuffer, GatherOwner, InputsHold } from '../inputs/gather-buffer.js';
import { sharedValueThreshold } from './shared-memory.js';

/** Bodies shorter than this are gathered on the heap: their values travel in the IPC message, and small Buffers come from Node's own pool. */
export const pooledMinimumBytes = 64 * 1024;
/** What the free buffers may hold at most, together; a buffer given back beyond it is dropped. */
export const maxFreeBytes = 32 * 1024 * 1024;
/**
 * A walk of one request's inputs stops after this many values (list items counted): its buffers
 * cannot be known, so every lent one is discarded. About a millisecond of walking; a JSON input
 * larger than that (a big tensor as nested lists) costs reuse, not correctness.
 */
const maxValuesWalked = 200_000;

interface Entry {
  /** The whole buffer (its size class's length); a body's bytes are its start. */
  readonly buffer: Buffer;
  /** Holders that have not said they are done; 0 when free. */
  holds: number;
  /** Some holder may still use it after it was done with: never reused. */
  discarded: boolean;
  /** When it was lent (see discardLentUpTo). */
  serial: number;
}

/** A pool of gather buffers, by size. */
export class GatherPool {
  private readonly free = new Map<number, Entry[]>();
  private readonly entries = new WeakMap<ArrayBufferLike, Entry>();
  private freeBytes = 0;
  private lentCount = 0;
  private reusedCount = 0;
  private serial = 0;
  // Entries lent at or before this serial are discarded when their holds end (a walk gave up).
  private discardLentUpTo = 0;

  /** Buffers lent now (held by someone). */
  get lent(): number {
    return this.lentCount;
  }

  /** Bytes the free buffers hold. */
  get freeByteCount(): number {
    return this.freeBytes;
  }

  /** Buffers lent again after a request gave them back, since the start. */
  get reused(): number {
    return this.reusedCount;
  }

  /** A reused (or new) buffer for `length` bytes, held by `owner` until it says it is done; undefined outside the pooled sizes or without an owner. */
  allocate(length: number, owner: GatherOwner | undefined): GatherBuffer | undefined {
    if (owner === undefined || length < pooledMinimumBytes || length > sharedValueThreshold) return undefined;
    // Sizes in quarters of a power of two: a buffer is at most a quarter longer than its body, and
    // bodies of about the same length (the same model's images) share a size.
    const quarter = 2 ** (Math.floor(Math.log2(length)) - 2);
    const size = Math.ceil(length / quarter) * quarter;
    const entry = this.take(size);
    if (!owner.whenDone(() => this.drop(entry, false))) {
      this.drop(entry, false);
      return undefined;
    }
    const bytes = entry.buffer.subarray(0, length);
    return { bytes, write: (chunk, at) => void chunk.copy(bytes, at) };
  }

  hold(inputs: Record<string, unknown>): InputsHold | undefined {
    if (this.lentCount === 0) return undefined;
    const found = this.lentIn(inputs);
    if (found === undefined) return undefined;
    if (Array.isArray(found)) for (const entry of found) entry.holds++;
    else found.holds++;
    return new PoolHold(this, found);
  }

  /** @internal A holder is done with `entry`; `discard`: it may still be in use, so it is never reused. */
  drop(entry: Entry, discard: boolean): void {
    if (discard) entry.discarded = true;
    if (--entry.holds > 0) return;
    this.lentCount--;
    if (entry.discarded || entry.serial <= this.discardLentUpTo) return;
    const size = entry.buffer.length;
    if (this.freeBytes + size > maxFreeBytes) return;
    this.freeBytes += size;
    const list = this.free.get(size);
    if (list) list.push(entry);
    else this.free.set(size, [entry]);
  }

  private take(size: number): Entry {
    let entry = this.free.get(size)?.pop();
    if (entry) {
      this.freeBytes -= size;
      this.reusedCount++;
    } else {
      entry = { buffer: Buffer.allocUnsafeSlow(size), holds: 0, discarded: false, serial: 0 };
      this.entries.set(entry.buffer.buffer, entry);
    }
    entry.holds = 1;
    entry.serial = ++this.serial;
    this.lentCount++;
    return entry;
  }

  // The lent entries `inputs` refer to: one, several (each once), or undefined. Inputs are trees of
  // plain objects, arrays and byte views (what the body parsers and convertInputs make); anything
  // else (a Map, a class instance, an object with symbol keys) could hide a view, so the walk gives up.
  private lentIn(inputs: Record<string, unknown>): Entry | Entry[] | undefined {
    let found: Entry | Entry[] | undefined;
    const add = (entry: Entry) => {
      if (found === undefined) found = entry;
      else if (Array.isArray(found)) {
        if (!found.includes(entry)) found.push(entry);
      } else if (found !== entry) found = [found, entry];
    };
    const stack: unknown[] = Object.values(inputs);
    let walked = 0;
    const giveUp = () => {
      // What it refers to cannot be told: no buffer lent now may be reused.
      this.discardLentUpTo = this.serial;
      return undefined;
    };
    while (stack.length > 0) {
      const value = stack.pop();
      if (typeof value !== 'object' || value === null) continue;
      if (++walked > maxValuesWalked) return giveUp();
      const memory = ArrayBuffer.isView(value) ? value.buffer : value instanceof ArrayBuffer ? value : undefined;
      if (memory !== undefined) {
        const entry = this.entries.get(memory);
        if (entry === undefined) continue;
        if (entry.holds > 0) add(entry);
        else this.withdraw(entry);
      } else if (Array.isArray(value)) {
        walked += value.length;
        if (walked > maxValuesWalked) return giveUp();
        for (const item of value) if (typeof item === 'object' && item !== null) stack.push(item);
      } else {
        const prototype = Object.getPrototypeOf(value);
        if ((prototype !== Object.prototype && prototype !== null) || Object.getOwnPropertySymbols(value).length > 0) return giveUp();
        for (const item of Object.values(value)) if (typeof item === 'object' && item !== null) stack.push(item);
      }
    }
    return found;
  }

  // A free entry that inputs still refer to (a holder gave it back too early): out of the pool for good.
  private withdraw(entry: Entry): void {
    entry.discarded = true;
    const list = this.free.get(entry.buffer.length);
    const index = list?.indexOf(entry) ?? -1;
    if (index === -1) return;
    list!.splice(index, 1);
    this.freeBytes -= entry.buffer.length;
  }
}

class PoolHold implements InputsHold {
  private done = false;

  constructor(
    private readonly pool: GatherPool,
    private readonly found: Entry | Entry[],
  ) {}

  release(): void {
    this.end(false);
  }

  discard(): void {
    this.end(true);
  }

  private end(discard: boolean): void {
    if (this.done) return;
    this.done = true;
    if (Array.isArray(this.found)) for (const entry of this.found) this.pool.drop(entry, discard);
    else this.pool.drop(this.found, discard);
  }
}

/**
 * The supervisor's gather allocator: memory files its workers map for bodies from the shared-memory
 * threshold up (when `shareMemory`), reused buffers below it, the heap otherwise.
 */
export function supervisorGatherAllocator(pool: GatherPool, shareMemory: (length: number) => GatherBuffer | undefined): GatherAllocator {
  return {
    allocate: (length, owner) => shareMemory(length) ?? pool.allocate(length, owner),
    hold: (inputs) => pool.hold(inputs),
  };
}
