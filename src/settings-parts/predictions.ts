import type { UploadSettings } from './uploads.js';
import type { WebhookSettings } from './webhooks.js';

/** The settings of async predictions, cancel and webhooks (PREDICTION_TTL_SECONDS, MAX_PREDICTIONS, CANCEL_GRACE_MS, WEBHOOK_*, OUTPUT_UPLOAD_*). */
export interface PredictionSettings {
  ttlMs: number;
  maxPredictions: number;
  cancelGraceMs: number;
  webhooks: WebhookSettings;
  /** OUTPUT_UPLOAD_*: where and how output files are uploaded. */
  uploads: UploadSettings;
}
