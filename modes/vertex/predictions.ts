import type { Prediction } from '../../src/http/predict.js';
import { resultBytes } from '../../src/result/write-result.js';

/**
 * One instance's entry in `{"predictions": [...]}`: a JSON result as its parsed value, text as a
 * string, anything else (an image, audio, bytes) as `{"b64": "..."}`, Vertex AI's binary convention.
 */
export function predictionOf(prediction: Prediction): unknown {
  const { report, result, mediaType } = prediction;
  if ('json' in report) return report.json;
  if (mediaType.startsWith('text/')) return typeof result.data === 'string' ? result.data : resultBytes(result).toString('utf8');
  return { b64: resultBytes(result).toString('base64') };
}
