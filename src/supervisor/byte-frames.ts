/**
 * The frames of the byte stream beside the supervisor's IPC channel (see byte-channel.ts): a
 * 24-byte header (a magic number, the request id, the value's index in its message's list, its
 * length), then the value's bytes as they are. The receiver reads a frame only once the IPC
 * channel has announced it, and only if the header says exactly what was announced.
 */
export const frameHeaderLength = 24;
// "AIB1": a header read from the wrong offset fails here rather than as a huge length.
const frameMagic = 0x41494231;

/** The header of value `index` of request `id`, `length` bytes long. */
export function frameHeader(id: number, index: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(frameHeaderLength);
  header.writeUInt32LE(frameMagic, 0);
  header.writeUInt32LE(index, 4);
  header.writeDoubleLE(id, 8);
  header.writeDoubleLE(length, 16);
  return header;
}

/** A frame the IPC channel announced: `done` gets its bytes once they have all arrived. */
export interface ExpectedFrame {
  id: number;
  index: number;
  length: number;
  done: (bytes: Buffer) => void;
}

/**
 * Reads frames, however the stream splits them, each into one Buffer of the announced length. Two
 * ways: `push` copies chunks the stream allocated; `readBuffer` and `advance` let the stream read
 * into that Buffer itself (net.Socket's `onread`), with no copy at all. Frames arrive in the order
 * they were announced; bytes that arrive before their announcement are held, and `stall(true)` asks
 * the stream to stop reading until it comes (so holding them stays bounded). A header that differs
 * from its announcement is an error: `failed` is called once, and nothing more is read.
 */
export class FrameReader {
  private readonly expected: ExpectedFrame[] = [];
  private readonly header = Buffer.alloc(frameHeaderLength);
  private headerFilled = 0;
  private target: Buffer | undefined;
  private filled = 0;
  private held: Buffer[] = [];
  private error: Error | undefined;

  constructor(
    private readonly failed: (error: Error) => void,
    private readonly stall: (stalled: boolean) => void = () => {},
  ) {}

  /** Announces the next frame. */
  expect(frame: ExpectedFrame): void {
    if (this.error) return;
    this.expected.push(frame);
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    this.stall(false);
    for (const chunk of held) this.push(chunk);
  }

  /** How many announced frames have not arrived whole yet. */
  get waiting(): number {
    return this.expected.length;
  }

  /**
   * Where the stream's next bytes belong: the rest of the header, or the rest of the value (never
   * past it, so one read never spans two frames). undefined when nothing is announced yet (or the
   * reader failed): what arrives then goes to `push`.
   */
  readBuffer(): Buffer | undefined {
    if (this.error || this.held.length > 0) return undefined;
    if (this.target) return this.target.subarray(this.filled);
    if (this.expected.length === 0) return undefined;
    return this.header.subarray(this.headerFilled);
  }

  /** `count` bytes were read into the Buffer `readBuffer` gave. */
  advance(count: number): void {
    if (this.target) {
      this.filled += count;
      this.completeFrame();
      return;
    }
    this.headerFilled += count;
    if (this.headerFilled === frameHeaderLength) this.readHeader();
  }

  /** Takes a chunk the stream read elsewhere (it is copied, or held as it is until its announcement). */
  push(chunk: Buffer): void {
    if (this.held.length > 0) {
      this.held.push(chunk);
      return;
    }
    let offset = 0;
    while (offset < chunk.length && !this.error) {
      const into = this.readBuffer();
      if (!into) {
        this.held.push(chunk.subarray(offset));
        this.stall(true);
        return;
      }
      const taken = chunk.copy(into, 0, offset, offset + into.length);
      offset += taken;
      this.advance(taken);
    }
  }

  private readHeader(): void {
    this.headerFilled = 0;
    const frame = this.expected[0]!;
    const magic = this.header.readUInt32LE(0);
    const index = this.header.readUInt32LE(4);
    const id = this.header.readDoubleLE(8);
    const length = this.header.readDoubleLE(16);
    if (magic !== frameMagic || id !== frame.id || index !== frame.index || length !== frame.length) {
      this.error = new Error(
        `a frame of the byte stream says ${magic === frameMagic ? `request ${id}, value ${index}, ${length} bytes` : 'nothing readable'} where request ${frame.id}, value ${frame.index}, ${frame.length} bytes was announced`,
      );
      this.held = [];
      this.failed(this.error);
      return;
    }
    this.target = Buffer.allocUnsafe(frame.length);
    this.filled = 0;
    // A frame of no bytes ends with its header.
    this.completeFrame();
  }

  private completeFrame(): void {
    if (!this.target || this.filled < this.target.length) return;
    const bytes = this.target;
    this.target = undefined;
    this.expected.shift()!.done(bytes);
  }
}
