import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Piece } from './partial-state.js';

/**
 * Hashes a file that is being written in pieces, in order, as its written prefix grows: the
 * pieces arrive out of order over several connections, and SHA-256 takes bytes only in order, so
 * it reads back (from the page cache) what is contiguous from the start while the rest downloads.
 * What remains once the last byte is written is the tail, not the whole file.
 */
export class HashFollower {
  private readonly hash = createHash('sha256');
  private hashed = 0;
  private wakeUp: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly pieces: readonly Piece[],
    private readonly size: number,
  ) {}

  /** Says that more bytes are written. */
  wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** Stops reading (the download failed). */
  stop(): void {
    this.stopped = true;
    this.wake();
  }

  /** Resolves with the hex sha256 once every byte is hashed; undefined when stopped first. */
  async run(): Promise<string | undefined> {
    const handle = await open(this.path, 'r');
    const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
    try {
      while (this.hashed < this.size && !this.stopped) {
        const upTo = this.written();
        if (upTo <= this.hashed) {
          await new Promise<void>((resolve) => {
            this.wakeUp = resolve;
          });
          continue;
        }
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, upTo - this.hashed), this.hashed);
        if (bytesRead === 0) throw new Error(`the partial file ${this.path} is shorter than what was written to it`);
        this.hash.update(buffer.subarray(0, bytesRead));
        this.hashed += bytesRead;
      }
    } finally {
      await handle.close();
    }
    return this.stopped ? undefined : this.hash.digest('hex');
  }

  // The end of the written prefix: the pieces are in order of their start.
  private written(): number {
    let end = 0;
    for (const piece of this.pieces) {
      end = piece.start + piece.done;
      if (piece.done < piece.length) break;
    }
    return end;
  }
}
