import { Worker } from 'node:worker_threads';

// Runs in a thread of its own, so that hashing takes no time from the connections' thread: it
// reads back (from the page cache) what is written from the start, 8 MiB at a time, and waits on
// the shared counter when it has caught up. (getBuiltinModule, not require: the source runs as a
// module when the process was started with --input-type=module.) Besides sha256 it can take
// md5 and CRC32C (Castagnoli, which Cloud Storage lists; node:crypto and zlib have no CRC32C, so
// a table here: it runs only for objects listed without an MD5, composite ones).
const followerSource = `
const { workerData, parentPort } = process.getBuiltinModule('node:worker_threads');
const { openSync, readSync, closeSync } = process.getBuiltinModule('node:fs');
const { createHash } = process.getBuiltinModule('node:crypto');
const { path, shared, algorithms } = workerData;
const positions = new BigInt64Array(shared, 0, 2);
const control = new Int32Array(shared, 16, 2);
function crc32c() {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c;
  }
  let crc = -1;
  return {
    update(data) {
      let c = crc;
      for (let i = 0; i < data.length; i += 1) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
      crc = c;
    },
    digest() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE((crc ^ -1) >>> 0);
      return out.toString('hex');
    },
  };
}
const hashes = algorithms.map((name) => [name, name === 'crc32c' ? crc32c() : createHash(name)]);
const hash = { update: (data) => { for (const [, each] of hashes) each.update(data); } };
const buffer = Buffer.allocUnsafe(8 * 1024 * 1024);
const fd = openSync(path, 'r');
let hashed = 0;
let digest = null;
try {
  for (;;) {
    const generation = Atomics.load(control, 0);
    if (Atomics.load(control, 1) === 1) break;
    const written = Number(Atomics.load(positions, 0));
    const size = Number(Atomics.load(positions, 1));
    if (hashed < written) {
      const bytesRead = readSync(fd, buffer, 0, Math.min(buffer.length, written - hashed), hashed);
      if (bytesRead === 0) throw new Error('the partial file ' + path + ' is shorter than what was written to it');
      hash.update(buffer.subarray(0, bytesRead));
      hashed += bytesRead;
    } else if (size >= 0 && hashed >= size) {
      digest = Object.fromEntries(hashes.map(([name, each]) => [name, each.digest('hex')]));
      break;
    } else {
      Atomics.wait(control, 0, generation);
    }
  }
} finally {
  closeSync(fd);
}
parentPort.postMessage(digest);
`;

/** The hashes a follower takes: sha256 always, md5 and crc32c (Castagnoli, big-endian) when asked. */
export type HashName = 'sha256' | 'md5' | 'crc32c';

/**
 * Hashes a file while it is written, in pieces, out of order, over several connections: SHA-256
 * takes bytes only in order, so a thread follows the contiguous prefix written from the start and
 * hashes it as it grows. What remains once the last byte is written is the tail, not the whole
 * file, and none of it runs on the thread that receives.
 */
export class HashFollower {
  private readonly shared = new SharedArrayBuffer(24);
  private readonly positions = new BigInt64Array(this.shared, 0, 2);
  private readonly control = new Int32Array(this.shared, 16, 2);
  private readonly result: Promise<Partial<Record<HashName, string>> | undefined>;

  /** `size` is undefined while unknown (a body without Content-Length): give it to `end`. `also`: hashes besides sha256. */
  constructor(path: string, size: number | undefined, also: readonly HashName[] = []) {
    Atomics.store(this.positions, 1, BigInt(size ?? -1));
    const algorithms = ['sha256', ...also.filter((name) => name !== 'sha256')];
    const worker = new Worker(followerSource, { eval: true, workerData: { path, shared: this.shared, algorithms } });
    this.result = new Promise((resolve, reject) => {
      worker.once('message', (digest: Record<HashName, string> | null) => resolve(digest ?? undefined));
      worker.once('error', reject);
      worker.once('exit', () => reject(new Error('the sha256 thread ended without an answer')));
    });
  }

  /** Says that the first `bytes` bytes of the file are written. */
  written(bytes: number): void {
    Atomics.store(this.positions, 0, BigInt(bytes));
    this.wake();
  }

  /** Says the file's size, once the body ended. */
  end(size: number): void {
    Atomics.store(this.positions, 1, BigInt(size));
    this.wake();
  }

  /** Stops hashing (the download failed): `digest` then resolves with undefined. */
  stop(): void {
    Atomics.store(this.control, 1, 1);
    this.wake();
  }

  /** The hex sha256 once every byte is hashed; undefined when stopped first. */
  async digest(): Promise<string | undefined> {
    return (await this.result)?.sha256;
  }

  /** Every hash asked for, in hex, once every byte is hashed; undefined when stopped first. */
  digests(): Promise<Partial<Record<HashName, string>> | undefined> {
    return this.result;
  }

  private wake(): void {
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
  }
}

/** The end of the contiguous run written from the start: the pieces are in order of their start. */
export function writtenPrefix(pieces: readonly { start: number; length: number; done: number }[]): number {
  let end = 0;
  for (const piece of pieces) {
    end = piece.start + piece.done;
    if (piece.done < piece.length) break;
  }
  return end;
}
