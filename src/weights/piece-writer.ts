import type { FileHandle } from 'node:fs/promises';
import type { Flow } from './receive.js';

// A write is a system call per 4 MiB (writev of the chunks as they came), not per 64 KiB chunk.
const batchBytes = 4 * 2 ** 20;
// A connection whose bytes wait this much for the disk is paused until they are written.
const pauseBytes = 16 * 2 ** 20;
// Less than a batch is written once no byte came for this long (a slow or held answer): the
// progress and the resume point never lag far behind what arrived.
const idleMs = 20;

/**
 * Writes what one connection receives at increasing positions of the file, without making the
 * connection wait for each write: the chunks gather while the previous batch is written on
 * libuv's threads, one batch at a time, so that the bytes written are always one contiguous run
 * (what a resume starts after). Too much waiting pauses the connection (`flow`).
 */
export class PieceWriter {
  private batch: Buffer[] = [];
  private batched = 0;
  private writing: Promise<void> | undefined;
  private failure: Error | undefined;
  private paused = false;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly handle: FileHandle,
    private position: number,
    /** Bytes now on file after those already written. */
    private readonly onWritten: (bytes: number) => void,
    private readonly flow: Flow,
  ) {}

  push(chunk: Buffer): void {
    if (this.failure) throw this.failure;

    this.batch.push(chunk);
    this.batched += chunk.length;
    if (this.writing === undefined) {
      if (this.batched >= batchBytes) this.writeBatch();
      else this.writeWhenIdle();
    } else if (this.batched >= pauseBytes && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** Writes what is left: resolves when every byte pushed is on file (the answer ended, or was cut). */
  async flush(): Promise<void> {
    clearTimeout(this.idle);
    while (this.writing !== undefined || (this.batched > 0 && this.failure === undefined)) {
      if (this.writing === undefined) this.writeBatch();
      await this.writing;
    }
    if (this.failure) throw this.failure;
  }

  private writeWhenIdle(): void {
    if (this.idle) this.idle.refresh();
    else this.idle = setTimeout(() => this.writing === undefined && this.batched > 0 && this.failure === undefined && this.writeBatch(), idleMs);
  }

  private writeBatch(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
    const buffers = this.batch;
    const length = this.batched;
    const position = this.position;
    this.batch = [];
    this.batched = 0;
    this.writing = writeAll(this.handle, buffers, length, position).then(
      () => {
        this.position += length;
        this.writing = undefined;
        this.onWritten(length);
        if (this.batched >= batchBytes) this.writeBatch();
        else if (this.batched > 0) this.writeWhenIdle();
        if (this.paused && this.batched < pauseBytes) {
          this.paused = false;
          this.flow.resume();
        }
      },
      (error: Error) => {
        this.failure = error;
        this.writing = undefined;
        if (this.paused) this.flow.resume();
      },
    );
  }
}

async function writeAll(handle: FileHandle, buffers: Buffer[], length: number, position: number): Promise<void> {
  const { bytesWritten } = await handle.writev(buffers, position);
  if (bytesWritten === length) return;
  // A short write (rare on a regular file): the rest from where it stopped.
  const rest = Buffer.concat(buffers).subarray(bytesWritten);
  for (let offset = 0; offset < rest.length; )
    offset += (await handle.write(rest, offset, rest.length - offset, position + bytesWritten + offset)).bytesWritten;
}
