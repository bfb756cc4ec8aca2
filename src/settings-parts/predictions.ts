import type { WebhookSettings } from './webhooks.js';

/** The settings of async predictions, cancel and webhooks (PREDICTION_TTL_SECONDS, MAX_PREDICTIONS, CANCEL_GRACE_MS, WEBHOOK_*). */
export interface PredictionSettings {
  ttlMs: number;
  maxPredictions: number;
  cancelGraceMs: number;
  webhooks: WebhookSettings;
}
