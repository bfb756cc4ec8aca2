import { gatherBuffer, type GatherBuffer, type GatherOwner } from '../inputs/gather-buffer.js';

/**
 * Where the files of one multipart body are gathered: one buffer of the body's declared length
 * that every file is copied into as its bytes arrive, each file a view of it. A file's bytes are
 * part of the body, so all of them fit. Chunks kept until a file ends and then concatenated would
 * hold the file twice at that moment: a 200 MB upload peaked at twice its size.
 *
 * Under the supervisor the buffer may be a memory file its worker maps, or a buffer reused once
 * `owner` (the request's body reservation) is done with it (gather-buffer.ts).
 *
 * Allocated at the first file byte (a body of fields only takes none); a body of unknown length
 * (chunked, compressed) gathers each file in chunks, as does a file whose bytes stop following one
 * another in the buffer (a parser that interleaved two files, which busboy does not).
 */
export class FileGathering {
  private buffer: GatherBuffer | undefined;
  private used = 0;

  constructor(
    private readonly declaredLength: number | undefined,
    private readonly owner?: GatherOwner,
  ) {}

  /** A file to gather: append its bytes as they arrive, then take them whole. */
  file(): GatheredFile {
    return new GatheredFile(this);
  }

  /** @internal Copies `chunk` after `end` when nothing has been written there since; the new end, or -1. */
  place(chunk: Buffer, end: number | undefined): number {
    if (this.declaredLength === undefined) return -1;
    if (end !== undefined && end !== this.used) return -1;
    this.buffer ??= gatherBuffer(this.declaredLength, true, this.owner);
    if (this.used + chunk.length > this.buffer.bytes.length) return -1;
    this.buffer.write(chunk, this.used);
    this.used += chunk.length;
    return this.used;
  }

  /** @internal */
  view(start: number, end: number): Buffer {
    return this.buffer!.bytes.subarray(start, end);
  }
}

/** One file's bytes: a run of the shared buffer, or chunks once they cannot follow on there. */
export class GatheredFile {
  private start = -1;
  private end = -1;
  private chunks: Buffer[] | undefined;
  private total = 0;

  constructor(private readonly gathering: FileGathering) {}

  /** Bytes received so far. */
  get length(): number {
    return this.total;
  }

  append(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.chunks === undefined) {
      const first = this.start === -1;
      const end = this.gathering.place(chunk, first ? undefined : this.end);
      if (end !== -1) {
        if (first) this.start = end - chunk.length;
        this.end = end;
        return;
      }
      this.chunks = first ? [] : [this.gathering.view(this.start, this.end)];
    }
    this.chunks.push(chunk);
  }

  /** The file's bytes, in one buffer. */
  bytes(): Buffer {
    if (this.chunks) return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.total);
    return this.start === -1 ? Buffer.alloc(0) : this.gathering.view(this.start, this.end);
  }
}
