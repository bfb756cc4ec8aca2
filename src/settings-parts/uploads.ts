import { AiIntegrationError } from '../errors.js';
import type { Parser } from './env-values.js';
import type { AllowedHost } from './url-inputs.js';

/** How output files are uploaded (OUTPUT_UPLOAD_URL and its bounds); src/settings.ts reads them. */
export interface UploadSettings {
  /** OUTPUT_UPLOAD_URL: where each output file is PUT, under `<prediction id>/<field>.<ext>`; unset, files stay data: URLs unless a prediction names its own (Cog's `output_file_prefix`). */
  url: string | undefined;
  /** PUTs in flight at once, across predictions; a retry's back-off waits without a slot. */
  concurrency: number;
  /** One try's limit: connecting, sending the file, the answer. */
  timeoutMs: number;
  /** URL_MAX_REDIRECTS: redirects followed per try, each one checked. */
  maxRedirects: number;
  /** URL_INPUTS_ALLOW_PRIVATE and URL_INPUTS_ALLOW_HOSTS: the address check of URL inputs, the same for uploads. */
  allowPrivate: boolean;
  allowHosts: readonly AllowedHost[];
}

/** OUTPUT_UPLOAD_URL: an http or https URL with no query (the files' paths go after it). */
export const uploadUrl: Parser<string> = {
  read(env, name) {
    const text = env[name]?.trim();
    if (!text) return undefined;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(text)} is not a URL; expected https://storage.example/outputs/`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(text)} is not an http or https URL`);
    if (url.search !== '' || url.hash !== '')
      throw new AiIntegrationError(
        'AI_ERR_INVALID_OPTION',
        `${name}: the URL must have no query or fragment, since each file's path (<prediction id>/<field>.<ext>) goes after it`,
      );
    return url.href;
  },
};
