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
  if (data.length === 0) return undefined;
  const sharp = await loadSharp();
  try {
    const metadata = await sharp(data, { failOn: 'error' }).metadata();
    if (!metadata.format || !metadata.width || !metadata.height) return undefined;
    return { format: metadata.format, width: metadata.width, height: metadata.height, channels: metadata.channels ?? 0 };
  } catch {
    return undefined;
  }
}

/** The Python library's self-test image: 600 x 400, RGB (200, 200, 200), JPEG. */
export async function makeGrayTestImage(): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 200, g: 200, b: 200 } } })
    .jpeg()
    .toBuffer();
}
