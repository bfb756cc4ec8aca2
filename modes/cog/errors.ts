import { AiIntegrationError, errorTable } from '../../src/errors.js';
import type { CogValidationDetail } from './types.js';

/** A request Cog's server would refuse with 422: every problem found, each with its `loc`. */
export class CogValidationError extends AiIntegrationError {
  override name = 'CogValidationError';
  readonly detail: CogValidationDetail[];

  constructor(detail: CogValidationDetail[]) {
    const first = detail[0];
    const field = first?.loc[0] === 'body' && first.loc[1] === 'input' && typeof first.loc[2] === 'string' ? first.loc[2] : undefined;
    super('AI_ERR_INVALID_INPUT', detail.map((entry) => `${entry.loc.join('.')}: ${entry.msg}`).join('; '), field === undefined ? {} : { field });
    this.detail = detail;
  }
}

/**
 * A Cog request this server does not serve: output uploads (`output_file_prefix`, 501), and a
 * stream asked of `PUT /predictions/{prediction_id}` (406, as Cog answers a stream it cannot
 * give). Refused with a sentence saying what to do instead, never ignored.
 */
export class CogNotSupportedError extends AiIntegrationError {
  override name = 'CogNotSupportedError';

  readonly status: number;

  /** `status`: 501, or 406 for an Accept the server cannot honour (Cog's answer to a stream request it cannot serve). */
  constructor(message: string, status: 501 | 406 = 501) {
    super('AI_ERR_USAGE', message);
    this.status = status;
  }

  override get httpStatus(): number {
    return this.status;
  }
}

/** One 422 entry for an input, the way Cog words a missing one. */
export function inputDetail(field: string, msg: string, type = 'value_error'): CogValidationDetail {
  return { loc: ['body', 'input', field], msg, type };
}

/**
 * An error as Cog's server answers it: 422 `{"detail": [{loc, msg, type}]}` for a request it
 * refuses, `{"detail": "..."}` for everything else, with the status of our error table (a refused Cog
 * feature: its own 501 or 406) and Retry-After where the table's 429 and 503 invite a retry.
 */
export function cogErrorBody(error: unknown): { status: number; body: { detail: string | CogValidationDetail[] }; headers: Record<string, string> } {
  if (error instanceof CogValidationError) return { status: 422, body: { detail: error.detail }, headers: {} };
  if (!(error instanceof AiIntegrationError)) return { status: 500, body: { detail: 'internal server error' }, headers: {} };
  const headers: Record<string, string> = error.code === 'AI_ERR_QUEUE_FULL' || error.code === 'AI_ERR_OVERLOADED' ? { 'retry-after': '1' } : {};
  if (error.code === 'AI_ERR_INVALID_INPUT' && error.field !== undefined) {
    return { status: 422, body: { detail: [invalidInputDetail(error.field, error.message)] }, headers };
  }
  const status = error instanceof CogNotSupportedError ? error.httpStatus : errorTable[error.code].httpStatus;
  return { status, body: { detail: error.message }, headers };
}

// InvalidInputError says "field: what is wrong"; Cog's entry names the field in `loc` and says
// "Field required" (type value_error.missing) for a missing one.
function invalidInputDetail(field: string, message: string): CogValidationDetail {
  const prefix = `${field}: `;
  const msg = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return msg.startsWith('is required') ? inputDetail(field, `Field required${msg.slice('is required'.length)}`, 'value_error.missing') : inputDetail(field, msg);
}
