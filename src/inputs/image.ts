import type { Sharp, SharpOptions } from 'sharp';

type SharpFactory = (input?: Buffer | SharpOptions, options?: SharpOptions) => Sharp;
let sharpModule: Promise<SharpFactory> | undefined;

/** sharp, loaded on first use: it is a native addon, and modes that never touch an image should not pay for it. */
export function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then((module) => (module.default ?? module) as unknown as SharpFactory);
  return sharpModule;
}

/** What sharp reads from an image's header. */
export interface ImageFacts {
  format: string;
  width: number;
  height: number;
  channels: number;
}

/** Reads an image's header, or returns undefined when sharp cannot decode it. */
export async function readImageFacts(data: Buffer): Promise<ImageFacts | undefined> {
  const header = await readImageHeader(data);
  return typeof header === 'string' ? undefined : header;
}

/**
 * Reads an image's header with sharp: its format and size, without decoding the pixels, so the
 * cost stays small whatever the image's size. Returns sharp's reason (its first line) when it
 * cannot read one.
 */
export async function readImageHeader(data: Buffer): Promise<ImageFacts | string> {
  if (data.length === 0) return 'no bytes';
  const sharp = await loadSharp();
  try {
    const metadata = await sharp(data, { failOn: 'error' }).metadata();
    if (!metadata.format || !metadata.width || !metadata.height) return 'the header gives no format, width and height';
    return { format: metadata.format, width: metadata.width, height: metadata.height, channels: metadata.channels ?? 0 };
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
  }
}

/**
 * The image format a file's first bytes announce ('jpeg', 'png', 'webp', 'gif', 'tiff', 'avif',
 * 'heif', 'bmp', 'svg'), or undefined. Cheap and synchronous: image inputs are checked with it
 * first, so bytes that announce no image are refused before their header is parsed.
 */
export function sniffImageFormat(data: Uint8Array): string | undefined {
  const text = (start: number, end: number) => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1', start, end);
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  if (text(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (text(0, 6) === 'GIF87a' || text(0, 6) === 'GIF89a') return 'gif';
  if (text(0, 4) === 'RIFF' && text(8, 12) === 'WEBP') return 'webp';
  if (text(0, 4) === 'II*\x00' || text(0, 4) === 'MM\x00*') return 'tiff';
  if (text(4, 8) === 'ftyp') {
    const brand = text(8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heif';
  }
  if (text(0, 2) === 'BM') return 'bmp';
  const head = text(0, 512).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'svg';
  return undefined;
}

/** The Python library's self-test image: 600 x 400, RGB (200, 200, 200), JPEG. */
export async function makeGrayTestImage(): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 200, g: 200, b: 200 } } })
    .jpeg()
    .toBuffer();
}
