import type { Prediction } from '../http/predict.js';
import { mediaKind } from '../media-type.js';
import { resultBytes } from '../result/write-result.js';
import { fileFields, isOutputResult, uploadField } from '../result/output-fields.js';
import type { UploadSettings } from '../settings-parts/uploads.js';
import type { OutputUploader } from './output-uploader.js';
import { type OutputFile, type UploadedFile, type UploadTarget, upstreamUploads } from './uploaded-file.js';
import { parseMediaType } from '../media-type.js';
import type { InferenceResult } from '../types.js';

/** The name a streamed chunk's file is uploaded under: its field (`output` for a single file) and the chunk's place in the stream. */
export function chunkField(field: string, index: number): string {
  return `${field}-${index}`;
}

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

  /**
   * Uploads the prediction's files, or throws UploadFailedError (AI_ERR_UPLOAD_FAILED): never a
   * silent fallback to inline bytes. An aborted `target.cancellation` stops them: PredictionCanceledError.
   */
  async apply(prediction: Prediction, target: UploadTarget): Promise<Prediction> {
    const upstream = upstreamUploads(prediction.result);
    if (upstream) return { ...prediction, uploads: upstream };
    const uploads = await this.upload(resultFiles(prediction), target);
    return uploads ? { ...prediction, uploads } : prediction;
  }

  /** Whether the files of a prediction with this target would be uploaded: an upload URL is set (its own, or OUTPUT_UPLOAD_URL). */
  uploadsFor(target: Pick<UploadTarget, 'url'>): boolean {
    return (target.url ?? this.settings.url) !== undefined;
  }

  /**
   * Uploads the files of a streamed chunk, the `index`th of its stream (from 0), each named
   * `<field>-<index>` (`output-2.png`, `mask-2.png`, `frames-0-2.png`): its uploaded files, or
   * undefined when there is no upload URL or the chunk has no file. Throws as `apply` does.
   */
  uploadChunk(chunk: InferenceResult, index: number, target: UploadTarget): Promise<UploadedFile[] | undefined> {
    const files = resultFiles({ result: chunk, mediaType: parseMediaType(chunk['content-type']) ?? '' });
    return this.upload(
      files.map((file) => ({ ...file, field: chunkField(file.field, index) })),
      target,
    );
  }

  private async upload(files: OutputFile[], target: UploadTarget): Promise<UploadedFile[] | undefined> {
    const baseUrl = target.url ?? this.settings.url;
    if (baseUrl === undefined || files.length === 0) return undefined;
    const uploader = await (this.uploader ??= import('./output-uploader.js').then(({ OutputUploader }) => new OutputUploader(this.settings)));
    return uploader.uploadFiles(files, { predictionId: target.predictionId, baseUrl, signal: target.cancellation?.signal });
  }

  /** Closes the uploader's idle connections (on shutdown). */
  async close(): Promise<void> {
    const uploader = await this.uploader?.catch(() => undefined);
    await uploader?.close();
  }
}
