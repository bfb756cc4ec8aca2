/**
 * Where a large body, or a multipart body's files, are gathered as they arrive: a plain Buffer,
 * or, in the supervisor, a buffer reused from request to request (src/supervisor/gather-pool.ts)
 * or a memory file its worker maps instead of receiving the bytes (src/supervisor/shared-memory.ts).
 * The readers of the body see a Buffer either way.
 */
export interface GatherBuffer {
  /** The buffer, `length` bytes, filled by `write`. */
  readonly bytes: Buffer;
  /** Copies `chunk` to `bytes` at `at`. */
  write(chunk: Buffer, at: number): void;
}

/**
 * The exchange a body is gathered for (an HTTP request's body reservation): it tells when it no
 * longer needs the bytes (its handler has settled and its response has closed).
 */
export interface GatherOwner {
  /** Calls `release` once done with the bytes; false (and never calls it) when that can no longer be told. */
  whenDone(release: () => void): boolean;
}

/**
 * The buffers of `inputs` that are reused once released, held until `release` (nothing still
 * reads or writes them) or `discard` (something may: they are never reused). Each once.
 */
export interface InputsHold {
  release(): void;
  discard(): void;
}

/** Where gather buffers come from when not from the heap. */
export interface GatherAllocator {
  /** A buffer of `length` bytes for `owner`'s body, or undefined for a length or owner it does not take (the heap's then). */
  allocate(length: number, owner: GatherOwner | undefined): GatherBuffer | undefined;
  /**
   * Holds the reused buffers `inputs` refer to, for as long as the caller may still read them
   * (queued, or sent to a worker); undefined when they refer to none.
   */
  hold(inputs: Record<string, unknown>): InputsHold | undefined;
}

let installed: GatherAllocator | undefined;

/**
 * A buffer of `length` bytes to gather into (its contents are not zeroed). `shareable`: the bytes
 * may become a binary input as they are (a multipart file, a binary body), so a worker may map
 * them and a reused buffer may hold them; a JSON body is parsed in the supervisor, and only what
 * it decodes goes on. `owner`: the exchange that tells when the bytes are no longer needed
 * (without one, the buffer is never reused).
 */
export function gatherBuffer(length: number, shareable = true, owner?: GatherOwner): GatherBuffer {
  return (shareable ? installed?.allocate(length, owner) : undefined) ?? heapBuffer(length);
}

function heapBuffer(length: number): GatherBuffer {
  const bytes = Buffer.allocUnsafe(length);
  return { bytes, write: (chunk, at) => void chunk.copy(bytes, at) };
}

/**
 * Holds the reused buffers `inputs` refer to (see GatherAllocator.hold); undefined when there is
 * none, which is always so outside the supervisor.
 */
export function holdGathered(inputs: Record<string, unknown>): InputsHold | undefined {
  return installed?.hold(inputs);
}

/** Sets (or, with undefined, removes) the allocator tried before the heap. */
export function useGatherAllocator(allocator: GatherAllocator | undefined): void {
  installed = allocator;
}
