import type { InputsSchema } from '../../src/types.js';
import { dataUrl, outputValue, type Prediction } from './predict.js';

// Enough of each format's signature to label an input's data URL without decoding it again.
function sniffImageType(bytes: Buffer): string | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes.subarray(0, 4).toString('latin1') === '\x89PNG') return 'image/png';
  if (bytes.subarray(0, 3).toString('latin1') === 'GIF') return 'image/gif';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}

/**
 * The Python library's response to `POST /`: `id`, `output_url` (a data URL for image results),
 * `scale_applied`, `inputs` (each with `is_img` and a data URL), `output` (parsed JSON or text),
 * `visualizer_data`.
 */
export function legacyResponse(id: string, schema: InputsSchema, prediction: Prediction): Record<string, unknown> {
  const inputs: Record<string, { is_img: boolean; url: string }> = {};
  for (const [name, value] of Object.entries(prediction.inputs)) {
    let entry: { is_img: boolean; url: string };
    if (Buffer.isBuffer(value)) {
      const imageType = schema[name]?.type === 'image' ? (sniffImageType(value) ?? 'image/*') : sniffImageType(value);
      entry = { is_img: imageType !== undefined, url: dataUrl(imageType ?? 'application/octet-stream', value) };
    } else {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      entry = { is_img: false, url: dataUrl('text/plain;charset=utf-8', Buffer.from(text, 'utf8')) };
    }
    Object.defineProperty(inputs, name, { value: entry, enumerable: true });
  }
  const isImage = prediction.mediaType.startsWith('image/');
  return {
    id,
    output_url: isImage ? outputValue(prediction) : null,
    scale_applied: 1,
    inputs,
    output: isImage ? null : outputValue(prediction),
    visualizer_data: null,
  };
}
