import type { Hash } from 'node:crypto';
import { writeSync } from 'node:fs';

/** A sha256 of the file's bytes taken from memory as they are written, when they are written in order from the start. */
export interface InOrderHash {
  hash: Hash;
  /** Bytes hashed: the position the next write must start at. */
  hashed: number;
}

/**
 * Writes what one connection receives at increasing positions of the file, each chunk at once
 * with a write system call (what curl does): the chunk lives in a read buffer that the next read
 * reuses, and nothing else runs on the thread while a download runs, so waiting for the page
 * cache costs less than copying the chunk to write it later. With `inOrder`, the same bytes are
 * hashed before the buffer is reused, so the file is never read back.
 */
export class SyncPieceWriter {
  constructor(
    private readonly fd: number,
    private position: number,
    /** Bytes now on file after those already written. */
    private readonly onWritten: (bytes: number) => void,
    private readonly inOrder?: InOrderHash,
  ) {
    if (inOrder && inOrder.hashed !== position) throw new Error(`a write at byte ${position} is not in order: ${inOrder.hashed} bytes are hashed`);
  }

  push(chunk: Buffer): void {
    for (let offset = 0; offset < chunk.length; ) offset += writeSync(this.fd, chunk, offset, chunk.length - offset, this.position + offset);
    this.position += chunk.length;
    if (this.inOrder) {
      this.inOrder.hash.update(chunk);
      this.inOrder.hashed += chunk.length;
    }
    this.onWritten(chunk.length);
  }

  /** Every byte is on file once `push` returns: nothing to wait for. */
  async flush(): Promise<void> {}
}
