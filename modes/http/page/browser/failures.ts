// A failed run: a title and a sentence in the result panel, the error beside the input it names,
// and the error code for a bug report.
import { data, element, result } from './elements.js';
import { focusField, showFieldError } from './field-errors.js';
import type { PredictionAnswer } from './prediction.js';
import { resetResult } from './results.js';

export interface Failure {
  title: string;
  message: string;
  /** The input the failure is about, shown beside it. */
  field?: string | undefined;
  code?: string;
}

// A message as a sentence: a capital letter (unless it starts with an input's name) and a full stop.
function sentence(message: string, field?: string): string {
  let text = String(message).trim().replace(/\s+/g, ' ');
  if (text.length > 600) text = `${text.slice(0, 597)}…`;
  if (!(field && text.startsWith(field))) text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

const titles: Record<number, string> = {
  400: 'The request was not understood',
  401: 'The access token was refused; reload the page to enter it again',
  413: 'The input is too large',
  415: 'The request was not understood',
  422: 'Check the inputs',
  429: 'The model is busy',
  503: 'The model is not ready',
  504: 'The model took too long',
};

/** The failure a response says, from its status, its Retry-After and the API's error object. */
export function describeFailure(response: Pick<Response, 'status' | 'statusText' | 'headers'>, answer: PredictionAnswer | null): Failure {
  const error =
    answer && answer.error && typeof answer.error.message === 'string' ? (answer.error as { code?: unknown; message: string; field?: unknown }) : undefined;
  const code = error && typeof error.code === 'string' ? error.code : undefined;
  let title = titles[response.status] || (response.status >= 500 ? 'The model failed' : 'The request failed');
  if (code === 'AI_ERR_MODEL_FAILED') title = 'The model could not give a result';
  let message;
  if (error) message = error.message;
  else message = `The server answered ${response.status}${response.statusText ? ` (${response.statusText})` : ''} without saying why.`;
  const retry = Number(response.headers.get('retry-after'));
  if (retry > 0) message = `${sentence(message)} Try again in ${retry}${retry === 1 ? ' second.' : ' seconds.'}`;
  const field = error && typeof error.field === 'string' && Object.hasOwn(data.types, error.field) ? error.field : undefined;
  return { title, message, field, code: code ? `${code} (HTTP ${response.status})` : `HTTP ${response.status}` };
}

const lowerFirst = (text: string) => (/^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text);

export function showFailure(failure: Failure): void {
  resetResult('failure');
  const field = failure.field;
  let message = sentence(failure.message, field);
  if (field) {
    // The API says "strength: expected ..."; beside the input, the name goes without saying.
    const raw = String(failure.message).trim();
    const prefix = `${field}: `;
    const rest = raw.startsWith(prefix) ? raw.slice(prefix.length) : undefined;
    if (rest === undefined) {
      showFieldError(field, message);
    } else if (/^(is|has|must) /.test(rest)) {
      showFieldError(field, sentence(`${field} ${rest}`, field));
      message = sentence(`the input ${field} ${rest}`);
    } else {
      showFieldError(field, sentence(rest));
      message = sentence(`the input ${field} was not accepted: ${lowerFirst(rest)}`);
    }
  }
  const title = element('p', 'failure-title', failure.title);
  const text = element('p', 'failure-message', message);
  result.append(title, text);
  if (failure.code) result.append(element('p', 'failure-code', `Error code ${failure.code}`));
  if (field) focusField(field);
}
