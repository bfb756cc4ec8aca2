import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { FormData } from 'undici';

/** The compiled example shim `shims/NAME.ts`, as a model author's build would produce it. */
export const exampleShimNamed = (name: string) => fileURLToPath(new URL(`../../dist/shims/${name}.js`, import.meta.url));

/** Writes files into a fresh temporary folder and returns their paths, for argv and pickles. */
export function writeTemporaryFiles(files: Record<string, Buffer | string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'example-shim-'));
  return Object.fromEntries(
    Object.entries(files).map(([name, content]) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return [name, path];
    }),
  );
}

/** The decoded facts of an image result: its format, size and per-channel means. */
export async function imageFacts(bytes: Buffer) {
  const image = sharp(bytes);
  const [metadata, stats] = await Promise.all([image.metadata(), image.stats()]);
  return { format: metadata.format, width: metadata.width, height: metadata.height, means: stats.channels.map((channel) => Math.round(channel.mean)) };
}

/** A multipart form: Buffers become files, everything else text fields. */
export function multipartForm(fields: Record<string, string | Buffer>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (Buffer.isBuffer(value)) form.append(name, new Blob([value]), `${name}.bin`);
    else form.append(name, value);
  }
  return form;
}
