/** One output file to upload: the result's field it fills, its media type and its bytes. */
export interface OutputFile {
  /** The field of the result (`output` for a single-file result, as Cog names it); the file is `<field>.<ext>`. */
  field: string;
  contentType: string;
  data: Buffer;
}

/** One uploaded output file, as a prediction's state lists it (`uploads`). */
export interface UploadedFile {
  field: string;
  /** Where the file now lives: the store's `Location`, else the URL the PUT ended at, without its query (a signed URL's secrets). */
  url: string;
  content_type: string;
  bytes: number;
}

/** Where one prediction's files go. */
export interface UploadTarget {
  /** The prediction's id: the files are PUT under `<url>/<prediction id>/`. */
  predictionId: string;
  /** The prediction's own upload URL (Cog's `output_file_prefix`), instead of OUTPUT_UPLOAD_URL. */
  url?: string | undefined;
  /**
   * Aborts the uploads in flight (a cancel, a client gone): the prediction then ends canceled.
   * Its `signal` is read only when a file uploads: a Cancellation makes its AbortSignal on first
   * use, and one made for every request lived as long as the request and was promoted to the old
   * generation (supervisor-gc.test.ts).
   */
  cancellation?: { readonly signal: AbortSignal } | undefined;
}

// A result whose files were uploaded before it reached this process (a MODE=queue worker's, at a
// gateway) carries their list here, out of sight of JSON and of structured clone.
const uploadedUpstream = Symbol('ai-integration.uploaded-upstream');

/** Marks a result as holding files uploaded already (their URLs in its data): `OutputUploads.apply` then lists them, and uploads nothing. */
export function withUpstreamUploads<R extends object>(result: R, uploads: readonly UploadedFile[]): R {
  Object.defineProperty(result, uploadedUpstream, { value: uploads, enumerable: false });
  return result;
}

/** The files a result's producer uploaded already, if it says. */
export function upstreamUploads(result: object): readonly UploadedFile[] | undefined {
  return (result as { [uploadedUpstream]?: readonly UploadedFile[] })[uploadedUpstream];
}
