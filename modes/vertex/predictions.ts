import { outputValue, type Prediction } from '../../src/http/predict.js';
import { resultValue } from '../../src/result/write-result.js';

/**
 * One instance's entry in `{"predictions": [...]}`: a JSON result as its parsed value, text as a
 * string, anything else (an image, audio, bytes) as `{"b64": "..."}`, Vertex AI's binary convention;
 * a file uploaded (OUTPUT_UPLOAD_URL) as its URL, a structured output's as theirs.
 */
export function predictionOf(prediction: Prediction): unknown {
  if (prediction.uploads) return outputValue(prediction);
  const { report, result, mediaType } = prediction;
  return resultValue(result, mediaType, (bytes) => ({ b64: bytes.toString('base64') }), report);
}
