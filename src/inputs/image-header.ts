import type * as ImageSizeModule from 'image-size';
import { requireOnFirstUse } from '../require-on-first-use.js';

// About 25 modules: loaded by the first image checked, so a mode that never sees one does not pay for them.
const loadImageSize = requireOnFirstUse<typeof ImageSizeModule>('image-size');

/** The formats an image input may be in: those sharp (the runtime's and most models' decoder) reads. */
const decodableFormats: Readonly<Record<string, string>> = { jpg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tiff', avif: 'avif', heif: 'heif' };

/** What an image's header says, read without decoding a pixel. */
export interface ImageHeader {
  format: string;
  width: number;
  height: number;
}

/**
 * Parses an image's header (its format, width and height) with image-size, or returns why it
 * cannot. Synchronous and a few microseconds whatever the image's size: every image input of
 * every request goes through it, where sharp's metadata read (a trip to libuv's thread pool)
 * cost two thirds of the HTTP mode's throughput on small images. It proves the header is whole
 * and names a size; the pixels are the model's to decode.
 */
export function parseImageHeader(data: Uint8Array): ImageHeader | string {
  if (data.length === 0) return 'no bytes';
  let size;
  try {
    size = loadImageSize().imageSize(data);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const format = decodableFormats[size.type ?? ''];
  if (!format) return `${size.type ?? 'an unknown format'} is not a format the runtime decodes`;
  if (!size.width || !size.height) return 'the header gives no width and height';
  return { format, width: size.width, height: size.height };
}
