import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { HashFollower, type HashName } from './hash-follower.js';

/** What takes a file's hashes while a ranged download writes it: a thread that follows it, or a read-back at the end. */
export interface FileHasher {
  /** Says that the first `bytes` bytes of the file are written. */
  written(bytes: number): void;
  /** Stops hashing (the download failed): `digests` then resolves with undefined (a read-back already under way still ends). */
  stop(): void;
  digest(): Promise<string | undefined>;
  digests(): Promise<Partial<Record<HashName, string>> | undefined>;
}

// Up to this size a file is hashed once whole, on this thread: starting a thread costs about 25 ms
// of CPU, more than hashing 8 MiB (sha256 and md5) from the page cache. A model folder is mostly
// such files (configs, tokenizer files), and several are fetched side by side.
const readBackBytes = 8 * 2 ** 20;
const chunkBytes = 2 ** 20;

/** A thread that follows the file as it is written, or, for a small one (not CRC32C, which only the thread has), a read-back once it is whole. */
export function fileHasher(path: string, size: number, also: readonly HashName[] = []): FileHasher {
  return size <= readBackBytes && !also.includes('crc32c') ? new ReadBackHash(path, size, also) : new HashFollower(path, size, also);
}

/** The hashes of a small file, read back in 1 MiB reads once every byte is written, each read hashed before the next. */
class ReadBackHash implements FileHasher {
  private stopped = false;
  private result: Promise<Partial<Record<HashName, string>> | undefined> | undefined;

  constructor(
    private readonly path: string,
    private readonly size: number,
    private readonly also: readonly HashName[],
  ) {}

  written(): void {}

  stop(): void {
    this.stopped = true;
  }

  async digest(): Promise<string | undefined> {
    return (await this.digests())?.sha256;
  }

  digests(): Promise<Partial<Record<HashName, string>> | undefined> {
    this.result ??= this.stopped ? Promise.resolve(undefined) : this.readBack();
    return this.result;
  }

  private async readBack(): Promise<Partial<Record<HashName, string>>> {
    const hashes = (['sha256', ...this.also.filter((name) => name !== 'sha256')] as const).map((name) => [name, createHash(name)] as const);
    const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(1, this.size)));
    const handle = await open(this.path, 'r');
    try {
      for (let hashed = 0; hashed < this.size; ) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, this.size - hashed), hashed);
        if (bytesRead === 0) throw new Error(`the partial file ${this.path} is shorter than what was written to it`);
        for (const [, hash] of hashes) hash.update(buffer.subarray(0, bytesRead));
        hashed += bytesRead;
      }
    } finally {
      await handle.close();
    }
    return Object.fromEntries(hashes.map(([name, hash]) => [name, hash.digest('hex')]));
  }
}
