/**
 * Where a large body, or a multipart body's files, are gathered as they arrive: a plain Buffer,
 * or, in the supervisor once its workers can map it, a memory file the worker maps instead of
 * receiving the bytes (src/supervisor/shared-memory.ts). The readers of the body see a Buffer
 * either way.
 */
export interface GatherBuffer {
  /** The buffer, `length` bytes, filled by `write`. */
  readonly bytes: Buffer;
  /** Copies `chunk` to `bytes` at `at`. */
  write(chunk: Buffer, at: number): void;
}

type Allocator = (length: number) => GatherBuffer | undefined;
let shared: Allocator | undefined;

/**
 * A buffer of `length` bytes to gather into (its contents are not zeroed). `shareable`: the bytes
 * may become a binary input as they are (a multipart file, a binary body), so a worker may map
 * them; a JSON body is parsed in the supervisor, and only what it decodes goes on.
 */
export function gatherBuffer(length: number, shareable = true): GatherBuffer {
  return (shareable ? shared?.(length) : undefined) ?? heapBuffer(length);
}

function heapBuffer(length: number): GatherBuffer {
  const bytes = Buffer.allocUnsafe(length);
  return { bytes, write: (chunk, at) => void chunk.copy(bytes, at) };
}

/** Sets (or, with undefined, removes) the allocator tried first; it returns undefined for a length it does not take. */
export function useGatherAllocator(allocator: Allocator | undefined): void {
  shared = allocator;
}
