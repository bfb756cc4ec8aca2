import { AiIntegrationError } from '../errors.js';
import { modeTraits } from '../registry.js';
import type { WeightsEntry } from '../settings-parts/weights.js';
import { readSetting } from '../settings-table.js';

/**
 * What is fetched into WEIGHTS_DIR before the model loads: WEIGHTS_URL's entries, then those the
 * platform of the mode MODE names gives (Vertex AI's AIP_STORAGE_URI, as the folder `aip-storage`).
 * @example weightsEntries({ MODE: 'vertex', AIP_STORAGE_URI: 'gs://b/model' }) // [{ url: 'gs://b/model/', name: 'aip-storage', folder: true, ... }]
 */
export function weightsEntries(env: Readonly<Record<string, string | undefined>>): readonly WeightsEntry[] {
  const listed = readSetting(env, 'WEIGHTS_URL') ?? [];
  const mode = env.MODE?.trim();
  const platform = mode ? (modeTraits(mode)?.weights?.(env) ?? []) : [];
  for (const entry of platform) {
    if (listed.some((other) => other.name === entry.name)) {
      throw new AiIntegrationError(
        'AI_ERR_INVALID_OPTION',
        `WEIGHTS_URL names ${JSON.stringify(entry.name)}, the folder ${entry.from ?? 'the platform'} is fetched into; give that entry another name with #name=FILE`,
      );
    }
  }
  return platform.length === 0 ? listed : [...listed, ...platform];
}
