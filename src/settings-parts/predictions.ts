/** The settings of async predictions, cancel and webhooks (PREDICTION_TTL_SECONDS, MAX_PREDICTIONS, CANCEL_GRACE_MS, WEBHOOK_AUTH_TOKEN). */
export interface PredictionSettings {
  ttlMs: number;
  maxPredictions: number;
  cancelGraceMs: number;
  webhookAuthToken: string | undefined;
}
