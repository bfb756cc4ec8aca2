import { Writable } from 'node:stream';

// Run directly in a mode whose stdout carries the result (command_line, the stdin and self-test
// modes), what the model prints goes to stderr, as the supervisor sends its worker's stdout to
// stderr: console.log, console.info, console.debug and the rest of console's stdout methods (they
// write through process.stdout.write), and the model's own process.stdout.write. The result goes
// out through resultStdout(), which keeps the real stdout. A native addon that writes to file
// descriptor 1 itself is beyond reach of this; under the supervisor it is not.
type Write = (chunk: Uint8Array, callback: (error?: Error | null) => void) => boolean;
let realWrite: Write | undefined;
let results: ResultStdout | undefined;

/** From now on, process.stdout.write (and so console.log) writes to stderr; resultStdout() is the real stdout. */
export function sendModelStdoutToStderr(): void {
  if (realWrite) return;
  const stdout = process.stdout;
  realWrite = stdout.write as Write;
  stdout.write = function toStderr(...args: unknown[]) {
    return (process.stderr.write as (...given: unknown[]) => boolean).apply(process.stderr, args);
  } as NodeJS.WriteStream['write'];
}

/** The stream that results are written to: process.stdout, or its real write once the model's prints go to stderr. */
export function resultStdout(): Writable & { isTTY?: boolean } {
  if (!realWrite) return process.stdout;
  results ??= new ResultStdout(realWrite);
  return results;
}

class ResultStdout extends Writable {
  readonly isTTY = process.stdout.isTTY;

  constructor(private readonly write_: Write) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.write_.call(process.stdout, chunk, callback);
  }
}
