import { integerSetting } from './env-values.js';

/** The environment variables of this area, with what each sets; the README's environment table lists them. */
export const predictionsVariables = {
  PREDICTION_TTL_SECONDS: 'how long a finished prediction stays readable at GET /predictions/{id} (default 600)',
  MAX_PREDICTIONS: 'most predictions the server keeps by id (running and finished); past it the oldest finished goes first, and when all are running a new one gets 429 (default 1000)',
  CANCEL_GRACE_MS: 'how long a canceled inference has to honour its AbortSignal before its worker is restarted (under the supervisor) or the cancel is reported as not stopped (default 5000)',
  WEBHOOK_AUTH_TOKEN: 'sent as `Authorization: Bearer <token>` with every webhook call (default none)',
} as const;

/** The settings of async predictions, cancel and webhooks. */
export interface PredictionSettings {
  ttlMs: number;
  maxPredictions: number;
  cancelGraceMs: number;
  webhookAuthToken: string | undefined;
}

/** Reads the settings of async predictions, cancel and webhooks from the environment (exit 3 on a malformed value). */
export function readPredictionSettings(env: Readonly<Record<string, string | undefined>>): PredictionSettings {
  const token = env.WEBHOOK_AUTH_TOKEN?.trim();
  return {
    ttlMs: (integerSetting(env, 'PREDICTION_TTL_SECONDS', 0, 2_147_483) ?? 600) * 1000,
    maxPredictions: integerSetting(env, 'MAX_PREDICTIONS', 1, 10_000_000) ?? 1000,
    cancelGraceMs: integerSetting(env, 'CANCEL_GRACE_MS', 0, 2 ** 31 - 1) ?? 5000,
    webhookAuthToken: token === '' ? undefined : token,
  };
}
