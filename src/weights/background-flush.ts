import type { FileHandle } from 'node:fs/promises';

// Bytes written between two flushes.
const flushEvery = 64 * 2 ** 20;

/**
 * The partial file is flushed to disk (fdatasync) before it is renamed into place, so that a crash
 * never leaves a file in place that is not whole. Flushed only at the end, a gigabyte takes
 * seconds of disk time after the last byte arrived; flushed every 64 MiB while the download runs,
 * the disk writes while the network reads, and the last flush has only the tail left.
 */
export class BackgroundFlush {
  private unflushed = 0;
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(private readonly handle: Pick<FileHandle, 'datasync'>) {}

  written(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < flushEvery || this.flushing !== undefined) return;
    this.unflushed = 0;
    this.flushing = this.handle.datasync().then(
      () => {
        this.flushing = undefined;
      },
      (error: Error) => {
        this.failure = error;
        this.flushing = undefined;
      },
    );
  }

  /** Resolves once the flush under way (if any) ended; rejects if one failed. */
  async settled(): Promise<void> {
    await this.flushing;
    if (this.failure) throw this.failure;
  }
}
