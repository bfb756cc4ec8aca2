import { sniffImageFormat } from '../../src/image.js';
import type { InputsSchema } from '../../src/types.js';
import { dataUrl, outputValue, type Prediction } from '../../src/http/predict.js';

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
      const format = sniffImageFormat(value);
      const imageType = format ? `image/${format === 'svg' ? 'svg+xml' : format}` : schema[name]?.type === 'image' ? 'image/*' : undefined;
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
