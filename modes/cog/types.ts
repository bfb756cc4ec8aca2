/**
 * The Cog prediction API as MODE=cog speaks it: the request and response bodies of Cog's HTTP
 * server (replicate/cog: the Rust coglet server, and the Python server of cog 0.16 for the fields
 * coglet no longer sends). Implementation files carry only "why" comments.
 */

/** A prediction's status. `starting` and `processing` are only seen while it runs. */
export type CogStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';

/** The events a webhook may be sent for. */
export type CogWebhookEvent = 'start' | 'output' | 'logs' | 'completed';

/**
 * The body of `POST /predictions` and `PUT /predictions/{prediction_id}`, checked.
 * @example { id: 'abc', input: { image: 'data:image/jpeg;base64,/9j/...', strength: 0.5 } }
 */
export interface CogPredictionRequest {
  /** The client's id, or undefined (the server makes one up). */
  id: string | undefined;
  /** The inputs the schema lists, as sent (unknown ones dropped unless STRICT_INPUTS). */
  input: Record<string, unknown>;
  /** Input names the schema does not list, dropped as Cog drops them. */
  dropped: string[];
  /** The request's `created_at`, in Cog's format, when it gave one. */
  createdAt: string | undefined;
  /** `webhook_events_filter`, checked. */
  webhookEventsFilter: CogWebhookEvent[];
  /** `webhook`: the URL that gets the prediction's state on those events (checked by the core: http or https). */
  webhook?: string;
  /** `output_file_prefix`: where this prediction's output files are PUT, instead of OUTPUT_UPLOAD_URL. */
  outputFilePrefix?: string;
}

/**
 * The body of every prediction answer, as Cog's Python server sent it (coglet sends a subset).
 * Timestamps are ISO 8601 in UTC as Python's `datetime.isoformat()` writes them:
 * `2024-05-01T10:20:30.123000+00:00`.
 */
export interface CogPredictionResponse {
  id: string;
  status: CogStatus;
  input: Record<string, unknown>;
  /** JSON results as JSON, text as a string, binary results as `data:` URLs; null unless succeeded. */
  output: unknown;
  /** Why it failed, as a string; null unless failed. */
  error: string | null;
  /** What the model logged for this prediction (`context.log`), a line each with its newline; '' until it logs. */
  logs: string;
  /** `predict_time`: seconds the model spent on it, once known. */
  metrics: { predict_time?: number };
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
}

/** One entry of a 422 answer: `{"detail": [{"loc": ["body", "input", "strength"], "msg": "...", "type": "value_error"}]}`. */
export interface CogValidationDetail {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** The state `GET /health-check` reports. */
export type CogHealthStatus = 'STARTING' | 'READY' | 'BUSY' | 'SETUP_FAILED' | 'DEFUNCT';

/** The model's setup (its loading), as `GET /health-check` reports it. */
export interface CogSetup {
  started_at: string;
  completed_at: string | null;
  status: 'starting' | 'succeeded' | 'failed';
  logs: string;
}

/** The body of `GET /health-check` (always HTTP 200, as Cog answers). */
export interface CogHealthCheck {
  status: CogHealthStatus;
  setup: CogSetup;
}
