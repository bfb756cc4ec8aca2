import type { Prediction } from '../http/predict.js';
import { mediaKind } from '../media-type.js';
import { resultBytes } from '../result/write-result.js';
import { fileFields, isOutputResult, uploadField } from '../result/output-fields.js';
import type { UploadSettings } from '../settings-parts/uploads.js';
import type { OutputUploader } from './output-uploader.js';
import type { OutputFile, UploadTarget } from './uploaded-file.js';

/**
 * The files of a checked prediction's result, each with its field: a single result whose media
 * type is a file's (an image, audio, anything but JSON and text) is the file `output`, the name
 * Cog gives a single output; a structured output's files are its file fields (`mask`; `frames-0`,
 * `frames-1` for a list field's).
 */
export function resultFiles(prediction: Pick<Prediction, 'mediaType' | 'result'>): OutputFile[] {
  if (isOutputResult(prediction.result)) {
    return [...fileFields(prediction.result)].map((file) => ({ field: uploadField(file), contentType: file.contentType, data: file.bytes }));
  }
  if (mediaKind(prediction.mediaType) !== 'binary') return [];
  return [{ field: 'output', contentType: prediction.result['content-type'], data: resultBytes(prediction.result) }];
}

/**
 * The serving side of output uploads: a prediction's files go to its upload URL (its own, Cog's
 * `output_file_prefix`, else OUTPUT_UPLOAD_URL), and the prediction comes back with `uploads`,
 * which its answers give instead of the bytes. With no upload URL it comes back as it was. The
 * uploader (undici, mime-types) loads with the first upload: most services never make one.
 */
export class OutputUploads {
  private uploader: Promise<OutputUploader> | undefined;

  constructor(private readonly settings: UploadSettings) {}

  /** Uploads the prediction's files, or throws UploadFailedError (AI_ERR_UPLOAD_FAILED): never a silent fallback to inline bytes. */
  async apply(prediction: Prediction, target: UploadTarget): Promise<Prediction> {
    const baseUrl = target.url ?? this.settings.url;
    if (baseUrl === undefined) return prediction;
    const files = resultFiles(prediction);
    if (files.length === 0) return prediction;
    const uploader = await (this.uploader ??= import('./output-uploader.js').then(({ OutputUploader }) => new OutputUploader(this.settings)));
    return { ...prediction, uploads: await uploader.uploadFiles(files, { predictionId: target.predictionId, baseUrl }) };
  }

  /** Closes the uploader's idle connections (on shutdown). */
  async close(): Promise<void> {
    const uploader = await this.uploader?.catch(() => undefined);
    await uploader?.close();
  }
}
