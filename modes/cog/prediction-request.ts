import { closest } from 'fastest-levenshtein';
import { describeType, isBinaryType, mustBeGiven } from '../../src/inputs/schema.js';
import { setOwn } from '../../src/inputs/safe-record.js';
import type { InputsSchema } from '../../src/types.js';
import { CogNotSupportedError, CogValidationError, inputDetail } from './errors.js';
import { cogTimestamp, parseTimestamp } from './timestamp.js';
import type { CogPredictionRequest, CogValidationDetail, CogWebhookEvent } from './types.js';

export interface ParseRequestOptions {
  schema: InputsSchema;
  /** STRICT_INPUTS: refuse input names the schema does not list instead of dropping them. */
  strictInputs: boolean;
  /** The `{prediction_id}` of `PUT /predictions/{prediction_id}`. */
  pathId?: string;
}

const webhookEvents: readonly CogWebhookEvent[] = ['start', 'output', 'logs', 'completed'];
const longestId = 256;
const controlCharacter = /[\u0000-\u001f\u007f]/;

/** The problem with a prediction id, or undefined when it is fine: 1 to 256 characters, no control characters. */
export function predictionIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'a prediction ID must not be empty';
  if (id.length > longestId) return `a prediction ID must be at most ${longestId} characters long, got ${id.length}`;
  if (controlCharacter.test(id)) return 'a prediction ID must not contain control characters';
  return undefined;
}

/**
 * Checks the body of `POST /predictions` or `PUT /predictions/{prediction_id}` the way Cog's
 * server does, and throws `CogValidationError` (422) with every problem found, each with its
 * `loc`. Like Cog, a missing or null body or `input` means no inputs, and inputs the schema does
 * not list are dropped (refused under STRICT_INPUTS). Binary inputs are `data:` or http(s) URLs.
 * `output_file_prefix`, an http(s) URL, uploads the prediction's output files there (as Cog does,
 * before `--upload-url`); its address is checked when the files are PUT.
 * The values themselves are converted and checked by the core afterwards (422 naming the field).
 * @example parsePredictionRequest({ input: { strength: 0.5 } }, { schema, strictInputs: false })
 */
export function parsePredictionRequest(body: unknown, options: ParseRequestOptions): CogPredictionRequest {
  const record = body ?? {};
  if (typeof record !== 'object' || Array.isArray(record)) {
    throw new CogValidationError([{ loc: ['body'], msg: `expected a JSON object {"input": {...}}, got ${describeType(body)}`, type: 'type_error.dict' }]);
  }
  const fields = record as Record<string, unknown>;
  const detail: CogValidationDetail[] = [];
  const outputFilePrefix = checkOutputFilePrefix(fields.output_file_prefix, detail);
  const id = checkId(fields.id, options.pathId, detail);
  const createdAt = checkCreatedAt(fields.created_at, detail);
  checkContext(fields.context, detail);
  const webhookEventsFilter = checkEventsFilter(fields.webhook_events_filter, detail);
  const raw = fields.input ?? {};
  let input: Record<string, unknown> = {};
  let dropped: string[] = [];
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    detail.push({ loc: ['body', 'input'], msg: `expected an object of input names to values, got ${describeType(raw)}`, type: 'type_error.dict' });
  } else {
    ({ input, dropped } = checkInputs(raw as Record<string, unknown>, options, detail));
  }
  const webhook = fields.webhook === undefined || fields.webhook === null ? undefined : fields.webhook;
  if (webhook !== undefined && typeof webhook !== 'string')
    detail.push({ loc: ['body', 'webhook'], msg: `expected a URL, got ${describeType(webhook)}`, type: 'type_error.str' });
  if (detail.length > 0) throw new CogValidationError(detail);
  return {
    id,
    input,
    dropped,
    createdAt,
    webhookEventsFilter,
    ...(typeof webhook === 'string' ? { webhook } : {}),
    ...(outputFilePrefix === undefined ? {} : { outputFilePrefix }),
  };
}

/** Whether a Prefer header (RFC 7240) holds `respond-async`, in any case and among any others. */
export function prefersAsync(prefer: string | string[] | undefined): boolean {
  const preferences = (Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '')).split(',');
  return preferences.some((preference) => preference.split(/[;=]/)[0]!.trim().toLowerCase() === 'respond-async');
}

/**
 * Refuses an `Accept` that asks only for a server-sent event stream on PUT: a PUT may join a
 * prediction already running, whose earlier events are gone, so streams start with POST; answering
 * JSON instead would leave a client that waits for events waiting forever.
 */
export function refuseStreamOnPut(accept: string | undefined): void {
  const ranges = (accept ?? '')
    .split(',')
    .map((range) => range.split(';')[0]!.trim().toLowerCase())
    .filter(Boolean);
  if (ranges.length > 0 && ranges.every((range) => range === 'text/event-stream')) {
    throw new CogNotSupportedError(
      'PUT /predictions/{prediction_id} does not stream (it may join a prediction already running); stream with POST /predictions, or ask PUT for application/json',
      406,
    );
  }
}

// Cog's per-prediction upload URL: an http(s) URL with no query (the files' paths go after it).
function checkOutputFilePrefix(value: unknown, detail: CogValidationDetail[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  const problem = (msg: string, type: string) => {
    detail.push({ loc: ['body', 'output_file_prefix'], msg, type });
    return undefined;
  };
  if (typeof value !== 'string') return problem(`expected an http(s) URL, got ${describeType(value)}`, 'type_error.str');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem(`expected an http(s) URL, got ${JSON.stringify(value.slice(0, 200))}`, 'value_error.url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return problem(`expected an http(s) URL, got a ${url.protocol} URL`, 'value_error.url.scheme');
  if (url.search !== '' || url.hash !== '')
    return problem('expected a URL with no query or fragment: the files go under it as <prediction id>/<field>.<ext>', 'value_error.url');
  return url.href;
}

function checkId(id: unknown, pathId: string | undefined, detail: CogValidationDetail[]): string | undefined {
  if (pathId !== undefined) {
    const problem = predictionIdProblem(pathId);
    if (problem) detail.push({ loc: ['path', 'prediction_id'], msg: problem, type: 'value_error' });
  }
  if (id === undefined || id === null) return pathId;
  if (typeof id !== 'string') {
    detail.push({ loc: ['body', 'id'], msg: `expected a string, got ${describeType(id)}`, type: 'type_error.str' });
    return pathId;
  }
  if (pathId !== undefined && id !== pathId) {
    detail.push({ loc: ['body', 'id'], msg: 'prediction ID must match the ID supplied in the URL', type: 'value_error' });
    return pathId;
  }
  const problem = pathId === undefined ? predictionIdProblem(id) : undefined;
  if (problem) detail.push({ loc: ['body', 'id'], msg: problem, type: 'value_error' });
  return id;
}

function checkCreatedAt(value: unknown, detail: CogValidationDetail[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  const epoch = typeof value === 'string' ? parseTimestamp(value) : undefined;
  if (epoch === undefined) {
    detail.push({
      loc: ['body', 'created_at'],
      msg: `expected an RFC 3339 date-time such as 2024-05-01T10:20:30Z, got ${describeType(value)}`,
      type: 'value_error.datetime',
    });
    return undefined;
  }
  return cogTimestamp(epoch);
}

// Cog hands `context` to the predictor; a shim's inference function has nowhere to receive it,
// so it is checked and not passed on (docs/how-to/cog.md).
function checkContext(value: unknown, detail: CogValidationDetail[]): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((entry) => typeof entry !== 'string')) {
    detail.push({ loc: ['body', 'context'], msg: `expected an object of strings, got ${describeType(value)}`, type: 'type_error.dict' });
  }
}

function checkEventsFilter(value: unknown, detail: CogValidationDetail[]): CogWebhookEvent[] {
  if (value === undefined || value === null) return [...webhookEvents];
  if (!Array.isArray(value)) {
    detail.push({
      loc: ['body', 'webhook_events_filter'],
      msg: `expected a list of ${webhookEvents.join(', ')}, got ${describeType(value)}`,
      type: 'type_error.list',
    });
    return [...webhookEvents];
  }
  const events: CogWebhookEvent[] = [];
  value.forEach((event: unknown, index) => {
    if (typeof event === 'string' && (webhookEvents as readonly string[]).includes(event)) {
      if (!events.includes(event as CogWebhookEvent)) events.push(event as CogWebhookEvent);
    } else {
      detail.push({
        loc: ['body', 'webhook_events_filter', index],
        msg: `expected one of ${webhookEvents.join(', ')}, got ${describeType(event)}`,
        type: 'type_error.enum',
      });
    }
  });
  return events;
}

function checkInputs(
  raw: Record<string, unknown>,
  options: ParseRequestOptions,
  detail: CogValidationDetail[],
): { input: Record<string, unknown>; dropped: string[] } {
  const { schema } = options;
  const names = Object.keys(schema);
  const input: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (!Object.hasOwn(schema, name)) {
      if (options.strictInputs) {
        const hint =
          names.length > 0 ? `; this model's inputs are ${names.join(', ')} (did you mean '${closest(name, names)}'?)` : '; this model takes no inputs';
        detail.push(inputDetail(name, `is not an input of this model${hint}`, 'value_error.extra'));
      } else {
        dropped.push(name);
      }
      continue;
    }
    setOwn(input, name, value);
  }
  for (const [name, spec] of Object.entries(schema)) {
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    if (value === undefined || value === null) {
      if (mustBeGiven(spec)) detail.push(inputDetail(name, 'Field required', 'value_error.missing'));
      continue;
    }
    if (isBinaryType(spec.type)) checkFileUri(name, value, detail);
  }
  return { input, dropped };
}

// Cog's file inputs are URIs: data: URLs inline, http(s) URLs fetched by the server (the core's
// conversion fetches them, with the URL inputs' limits and address checks, or refuses them when
// URL_INPUTS=false).
function checkFileUri(name: string, value: unknown, detail: CogValidationDetail[]): void {
  if (typeof value !== 'string') {
    detail.push(
      inputDetail(name, `expected a URI (a data: URL such as data:image/jpeg;base64,... or an http(s) URL), got ${describeType(value)}`, 'type_error.str'),
    );
  } else if (!/^(?:data:|https?:\/\/)/i.test(value)) {
    detail.push(
      inputDetail(name, `expected a URI: a data: URL (data:<media type>;base64,<data>) or an http(s) URL, got ${describeType(value)}`, 'value_error.url'),
    );
  }
}
