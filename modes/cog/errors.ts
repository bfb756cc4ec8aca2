import { AiIntegrationError, type ErrorAnswer } from '../../src/errors.js';
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
 * A Cog request this server does not serve: a stream asked of `PUT /predictions/{prediction_id}`
 * (406, as Cog answers a stream it cannot give). Refused with a sentence saying what to do
 * instead, never ignored.
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
 * An error as Cog's server answers it: `{"detail": [{loc, msg, type}]}` for a request it refuses
 * (422, the error table's), `{"detail": "..."}` for everything else. The status (a refused Cog
 * feature: its own 501 or 406) and Retry-After are the core's, from the error table.
 */
export function cogErrorBody(answer: ErrorAnswer, error: unknown): { detail: string | CogValidationDetail[] } {
  if (error instanceof CogValidationError) return { detail: error.detail };
  if (answer.code === 'AI_ERR_INVALID_INPUT' && answer.field !== undefined) return { detail: [invalidInputDetail(answer.field, answer.message)] };
  return { detail: answer.message };
}

// InvalidInputError says "field: what is wrong"; Cog's entry names the field in `loc` and says
// "Field required" (type value_error.missing) for a missing one.
function invalidInputDetail(field: string, message: string): CogValidationDetail {
  const prefix = `${field}: `;
  const msg = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return msg.startsWith('is required')
    ? inputDetail(field, `Field required${msg.slice('is required'.length)}`, 'value_error.missing')
    : inputDetail(field, msg);
}
