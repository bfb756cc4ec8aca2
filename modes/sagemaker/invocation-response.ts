import { outputValue, type Prediction } from '../../src/http/predict.js';
import { isTextual } from '../../src/media-type.js';
import { resultBytes } from '../../src/result/write-result.js';
import { negotiate } from './accept.js';
import { NotAcceptableError } from './errors.js';

/** A response body with its Content-Type. */
export interface Encoded {
  contentType: string;
  body: Buffer;
}

/**
 * The answer to a single invocation: the result's data with the result's own content type, unless
 * Accept asks for a form it can be converted to: `application/json` (a JSON result as it is, text
 * as a JSON string, binary data as a data: URL string), `application/jsonlines` (the same value on
 * one line), or `text/plain` for a textual result. Otherwise 406, naming what the result can be.
 * Once its files were uploaded (OUTPUT_UPLOAD_URL) it is JSON only, with their URLs for the bytes.
 */
export function encodeResult(prediction: Prediction, accept: string | undefined): Encoded {
  const own = prediction.mediaType;
  const offers = offersOf(prediction);
  const chosen = negotiate(
    accept,
    offers.map((offer) => offer.mediaType),
  );
  if (chosen === undefined) {
    const forms = [...new Set(offers.map((offer) => offer.mediaType))];
    throw new NotAcceptableError(`the result is ${own}, which the request's Accept (${accept}) does not take; it can be given as ${forms.join(', ')} (or */*)`);
  }
  return offers[chosen]!.encode();
}

/**
 * Whether `accept` takes one of the forms left once the result's files are uploaded (JSON, JSON
 * Lines, text): when it takes none (`image/*` alone), uploading would only end in 406, so the
 * bytes are kept and answered as they are, or refused, with nothing uploaded.
 */
export function acceptsUploadedAnswer(prediction: Prediction, accept: string | undefined): boolean {
  const uploaded = offersOf({ ...prediction, uploads: [] });
  return (
    negotiate(
      accept,
      uploaded.map((offer) => offer.mediaType),
    ) !== undefined
  );
}

function offersOf(prediction: Prediction): { mediaType: string; encode: () => Encoded }[] {
  const own = prediction.mediaType;
  const offers: { mediaType: string; encode: () => Encoded }[] = [
    ...(prediction.uploads
      ? []
      : [{ mediaType: own, encode: () => ({ contentType: prediction.result['content-type'], body: resultBytes(prediction.result) }) }]),
    { mediaType: 'application/json', encode: () => ({ contentType: 'application/json', body: Buffer.from(JSON.stringify(outputValue(prediction))) }) },
    {
      mediaType: 'application/jsonlines',
      encode: () => ({ contentType: 'application/jsonlines', body: Buffer.from(JSON.stringify(outputValue(prediction))) }),
    },
    {
      mediaType: 'application/x-jsonlines',
      encode: () => ({ contentType: 'application/x-jsonlines', body: Buffer.from(JSON.stringify(outputValue(prediction))) }),
    },
  ];
  if (isTextual(own) && own !== 'text/plain')
    offers.push({ mediaType: 'text/plain', encode: () => ({ contentType: 'text/plain; charset=utf-8', body: resultBytes(prediction.result) }) });
  return offers;
}

/**
 * The forms a JSON Lines request can be answered in: JSON Lines (the request's own type first),
 * or `application/json`, one array. Checked before any line runs, since no result changes it.
 */
export function chooseLinesType(requestType: string, accept: string | undefined): string {
  const offers = [...new Set([requestType, 'application/jsonlines', 'application/x-jsonlines', 'application/json'])];
  const chosen = negotiate(accept, offers);
  if (chosen === undefined)
    throw new NotAcceptableError(`a JSON Lines request is answered as ${offers.join(', ')} (or */*), none of which the request's Accept (${accept}) takes`);
  return offers[chosen]!;
}

/**
 * One result line per input line, in order, with no newline after the last (batch transform's
 * AssembleWith=Line adds one between requests): a JSON result as compact JSON, text as a JSON
 * string, binary data as a data: URL string. As `application/json`, the same values as an array.
 */
export function encodeLines(predictions: readonly Prediction[], mediaType: string): Encoded {
  const values = predictions.map(outputValue);
  const body = mediaType === 'application/json' ? JSON.stringify(values) : values.map((value) => JSON.stringify(value)).join('\n');
  return { contentType: mediaType, body: Buffer.from(body) };
}
