// What the prediction API answers (docs/reference: the HTTP routes), as far as the page reads it.
// Parsed from the network, so each field is checked where it is used.

export interface PredictionAnswer {
  status?: unknown;
  output?: unknown;
  content_type?: unknown;
  metrics?: { predict_time_ms?: unknown };
  error?: { code?: unknown; message?: unknown; field?: unknown };
}
