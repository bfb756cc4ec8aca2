// A model that throws while loading fails the same way on every retry; its stack, printed once,
// says all there is, and each retry adds one short line. So a retry's output is held while it
// repeats the last failed start's output byte for byte, and dropped if the start fails the same
// way; anything new (another error, the model's own progress) is passed through at once.

/** What a start's output became: passed through, or held and dropped as a repeat of the last failed start's. */
export type StartOutcome = 'shown' | 'repeated';

// A start's output past this is not kept to compare with the next start: long output is shown.
const keptBytes = 64 * 1024;

/** The worker's stderr while it starts, written to `out`; see the file's comment. */
export class StartOutput {
  private readonly kept: Buffer[] = [];
  private keptLength = 0;
  private overflowed = false;
  private held: Buffer[] | undefined;
  private heldLength = 0;
  private started = false;

  /** `previous`: the output of the last start, when it failed; undefined for a first start. */
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly previous: Buffer | undefined,
  ) {
    if (previous !== undefined) this.held = [];
  }

  /** False when `out` asks to wait for its 'drain' (as a stream's write does). */
  write(chunk: Buffer): boolean {
    if (!this.started) this.keep(chunk);
    if (this.held === undefined) return this.out.write(chunk);
    this.held.push(chunk);
    this.heldLength += chunk.length;
    return this.repeatsSoFar() || this.release();
  }

  /** The model loaded: what was held is shown, and everything from now on passes through. */
  ready(): void {
    this.started = true;
    this.kept.length = 0;
    this.release();
  }

  /** The start failed: whether its output repeated the last failed start's (and was dropped), and the output to compare the next start with. */
  failed(): { outcome: StartOutcome; output: Buffer | undefined } {
    const repeated = this.held !== undefined && this.previous !== undefined && this.heldLength === this.previous.length;
    if (!repeated) this.release();
    this.held = undefined;
    return { outcome: repeated ? 'repeated' : 'shown', output: this.overflowed ? undefined : Buffer.concat(this.kept) };
  }

  private repeatsSoFar(): boolean {
    const previous = this.previous!;
    if (this.heldLength > previous.length) return false;
    const last = this.held!.at(-1)!;
    return previous.subarray(this.heldLength - last.length, this.heldLength).equals(last);
  }

  private release(): boolean {
    if (this.held === undefined) return true;
    let more = true;
    for (const chunk of this.held) more = this.out.write(chunk);
    this.held = undefined;
    return more;
  }

  private keep(chunk: Buffer): void {
    if (this.overflowed) return;
    this.keptLength += chunk.length;
    if (this.keptLength > keptBytes) {
      this.overflowed = true;
      this.kept.length = 0;
    } else this.kept.push(chunk);
  }
}
