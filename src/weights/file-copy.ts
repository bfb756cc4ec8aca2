import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PermanentDownloadError } from './http-download.js';

/** Copies a file:// URL's file into the partial file, hashing it as it goes. */
export async function copyFileUrl(
  url: string,
  partialPath: string,
  onStart: (size: number) => void,
  onBytes: (bytes: number) => void,
  signal: AbortSignal,
): Promise<{ sha256: string; size: number }> {
  const path = fileURLToPath(url);
  const source = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new PermanentDownloadError(error.code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path} (${error.code})`);
  });
  if (!source.isFile()) throw new PermanentDownloadError(`${path} is not a file`);
  onStart(source.size);
  const hash = createHash('sha256');
  const handle = await open(partialPath, 'w');
  let size = 0;
  try {
    for await (const data of createReadStream(path, { highWaterMark: 4 * 1024 * 1024, signal }) as AsyncIterable<Buffer>) {
      hash.update(data);
      for (let offset = 0; offset < data.length; ) offset += (await handle.write(data, offset, data.length - offset, size + offset)).bytesWritten;
      size += data.length;
      onBytes(data.length);
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), size };
}
