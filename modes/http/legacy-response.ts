import { sniffImageFormat } from '../../src/inputs/image.js';
import { setOwn } from '../../src/inputs/safe-record.js';
import type { InputsSchema } from '../../src/types.js';
import { resultBytes } from '../../src/result/write-result.js';
import { DataUrl } from '../../src/json-bytes.js';
import { outputValue, type Prediction } from '../../src/http/predict.js';

/**
 * The Python library's response to `POST /`: `id`, `output_url` (a data URL for image results),
 * `scale_applied`, `inputs` (each with `is_img` and a data URL), `output` (parsed JSON or text),
 * `visualizer_data`.
 */
export function legacyResponse(id: string, schema: InputsSchema, prediction: Prediction): Record<string, unknown> {
  // Inputs are echoed as data URLs written from their bytes (DataUrl): an echoed image is most of the answer.
  const inputs: Record<string, { is_img: boolean; url: DataUrl }> = {};
  for (const [name, value] of Object.entries(prediction.inputs)) {
    let entry: { is_img: boolean; url: DataUrl };
    if (Buffer.isBuffer(value)) {
      const format = sniffImageFormat(value);
      const imageType = format ? `image/${format === 'svg' ? 'svg+xml' : format}` : schema[name]?.type === 'image' ? 'image/*' : undefined;
      entry = { is_img: imageType !== undefined, url: new DataUrl(imageType ?? 'application/octet-stream', value) };
    } else {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      entry = { is_img: false, url: new DataUrl('text/plain;charset=utf-8', Buffer.from(text, 'utf8')) };
    }
    setOwn(inputs, name, entry);
  }
  const isImage = prediction.mediaType.startsWith('image/');
  return {
    id,
    output_url: isImage ? new DataUrl(prediction.result['content-type'], resultBytes(prediction.result)) : null,
    scale_applied: 1,
    inputs,
    output: isImage ? null : outputValue(prediction),
    visualizer_data: null,
  };
}
