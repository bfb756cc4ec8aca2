import type { Writable } from 'node:stream';
import { plural } from '../plural.js';
import { mediaKind, parseMediaType, type MediaKind } from '../media-type.js';
import type { InferenceResult, Logger } from '../types.js';
import { resultBytes } from './write-result.js';
import { describeOutput, isOutputResult } from './output-fields.js';

/**
 * Prints a streamed result's chunks as they come, for the one-shot modes: text chunks as they are
 * (a token stream reads as it is written), JSON chunks one per line; binary chunks (progress
 * images) are only summarised on the log, since bytes run together would be no file at all.
 * `stdout` undefined sends every chunk to the log (the result goes to a file).
 */
export class ChunkPrinter {
  private count = 0;
  /** The kind of chunk written to stdout, once one was. */
  private printedKind: MediaKind | undefined;
  private endsWithNewline = true;

  constructor(
    private readonly stdout: Writable | undefined,
    private readonly log: Logger,
  ) {}

  readonly onChunk = (chunk: InferenceResult): void => {
    this.count++;
    const bytes = resultBytes(chunk);
    const kind = mediaKind(parseMediaType(chunk['content-type']) ?? '');
    // A structured output's chunks are states with files: summarised like images; its final state is written.
    if (isOutputResult(chunk)) {
      this.log.info(`chunk ${this.count}: ${describeOutput(chunk)}`);
      return;
    }
    if (!this.stdout || kind === 'binary') {
      this.log.info(`chunk ${this.count}: ${chunk['content-type']}, ${plural(bytes.length, 'byte')}`);
      return;
    }
    this.printedKind = kind;
    if (kind === 'json') {
      this.stdout.write(`${JSON.stringify(JSON.parse(bytes.toString('utf8')))}\n`);
      this.endsWithNewline = true;
    } else if (bytes.length > 0) {
      this.stdout.write(bytes);
      this.endsWithNewline = bytes[bytes.length - 1] === 0x0a;
    }
  };

  /** How many chunks came. */
  get chunks(): number {
    return this.count;
  }

  /** Ends printed text with its line break, when the stream ended without a result (it threw, or broke the contract). */
  endLine(): void {
    if (this.printedKind === undefined || !this.stdout || this.endsWithNewline) return;
    this.stdout.write('\n');
    this.endsWithNewline = true;
  }

  /**
   * Whether the final result still needs writing: not when the chunks printed already showed it
   * (text concatenated, JSON lines); yes for a result of another kind (the finished image, or a
   * summary the model returned). Ends printed text with its line break.
   */
  finish(final: InferenceResult): boolean {
    if (this.printedKind === undefined || !this.stdout) return true;
    this.endLine();
    if (isOutputResult(final)) return true;
    return mediaKind(parseMediaType(final['content-type']) ?? '') !== this.printedKind;
  }
}
