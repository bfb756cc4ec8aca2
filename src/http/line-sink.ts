import { write, writeSync } from 'node:fs';

/**
 * Past this many bytes waiting for a stuck reader of the log, lines are dropped (and counted):
 * at 25,000 requests a second, about 25 s of access log.
 */
const defaultMaxPendingBytes = 64 * 1024 * 1024;

/**
 * Log lines written to a file descriptor without ever blocking the event loop: lines wait in a
 * list while one write is in progress and go out together in the next, so a busy server makes a
 * write per batch of requests, not per request. Memory is bounded: a reader that stops reading
 * (a stuck log driver) costs dropped lines, said in the first line written after, never the
 * service. What waits is written synchronously when the process exits.
 *
 * A sink given `gatherMs` also waits that long after a line arrives before writing, so that lines
 * gather even when each write finishes before the next request arrives: the access log's write per
 * request (a trip to libuv's thread pool) cost a tenth of the native API's throughput on small
 * requests, and a log line a few milliseconds late costs its reader nothing (nginx's access_log
 * buffer does the same).
 *
 * pino's asynchronous destination (sonic-boom) does the same, but appends each line to a string
 * whose byte length it measures again on every write, which flattens it: on the access log's
 * path that cost a tenth of the native API's throughput (bench/access.mjs).
 */
export class LineSink {
  private pending: string[] = [];
  private pendingBytes = 0;
  private writing = false;
  private dropped = 0;
  private gathering: NodeJS.Timeout | undefined;

  constructor(
    private readonly fd: number,
    private readonly maxPendingBytes = defaultMaxPendingBytes,
    private readonly gatherMs = 0,
  ) {
    process.once('exit', () => this.flushSync());
  }

  /** Takes a line (with its newline); pino calls it as a destination stream. */
  write(line: string): boolean {
    if (this.pendingBytes > this.maxPendingBytes) {
      this.dropped++;
      return false;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.writing || this.gathering !== undefined) return true;
    if (this.gatherMs > 0) {
      // Unreferenced: lines still waiting when the process exits are written by flushSync.
      this.gathering = setTimeout(() => {
        this.gathering = undefined;
        if (!this.writing && this.pending.length > 0) this.writeNext();
      }, this.gatherMs).unref();
    } else this.writeNext();
    return true;
  }

  private takePending(): string {
    if (this.dropped > 0) {
      this.pending.unshift(`warning: ${this.dropped} log line(s) dropped: the log's reader fell more than ${this.maxPendingBytes} bytes behind\n`);
      this.dropped = 0;
    }
    const text = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    return text;
  }

  private writeNext(): void {
    this.writeBytes(Buffer.from(this.takePending()));
  }

  private writeBytes(bytes: Buffer): void {
    this.writing = true;
    write(this.fd, bytes, 0, bytes.length, null, (error, written) => {
      if (error) {
        // A pipe in non-blocking mode that is full: try again shortly. Any other error (the
        // reader is gone) ends this batch; the log has nowhere to go.
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          setTimeout(() => this.writeBytes(bytes), 10).unref();
          return;
        }
      } else if (written < bytes.length) {
        this.writeBytes(bytes.subarray(written));
        return;
      }
      this.writing = false;
      if (this.pending.length > 0 && this.gathering === undefined) this.writeNext();
    });
  }

  /** Writes what waits, now (at exit). A write still in progress finishes on its own thread. */
  flushSync(): void {
    if (this.pending.length === 0 && this.dropped === 0) return;
    try {
      writeSync(this.fd, this.takePending());
    } catch {
      // Nowhere to write at exit: nothing more can be done.
    }
  }
}
