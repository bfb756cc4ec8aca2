import contentType from 'content-type';

/** What a media type's data is: JSON to parse, UTF-8 text, or bytes. */
export type MediaKind = 'json' | 'text' | 'binary';

// A model answers with the same few content types again and again; parsing each once is enough.
const parsedTypes = new Map<string, string | undefined>();

/**
 * The media type of a Content-Type, lower-cased without parameters; undefined when it does not parse.
 * @example parseMediaType('Text/Plain; charset=utf-8') // 'text/plain'
 */
export function parseMediaType(declaredType: string): string | undefined {
  if (parsedTypes.has(declaredType)) return parsedTypes.get(declaredType);
  let mediaType: string | undefined;
  try {
    mediaType = contentType.parse(declaredType).type;
  } catch {
    mediaType = undefined;
  }
  if (parsedTypes.size < 256) parsedTypes.set(declaredType, mediaType);
  return mediaType;
}

/** Whether a media type (lower-cased, without parameters) is JSON: `application/json` or a `+json` suffix. */
export function isJsonType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

/**
 * What the data of a media type (lower-cased, without parameters) is: JSON (`application/json`,
 * `+json`), text (`text/*`), or binary (anything else, `application/xml` included).
 * @example mediaKind('application/ld+json') // 'json'
 */
export function mediaKind(mediaType: string): MediaKind {
  if (isJsonType(mediaType)) return 'json';
  return mediaType.startsWith('text/') ? 'text' : 'binary';
}

/** Whether the data of a media type is UTF-8 text (JSON or `text/*`) rather than bytes. */
export function isTextual(mediaType: string): boolean {
  return mediaKind(mediaType) !== 'binary';
}

/**
 * Whether an Accept header names this exact media type (lower-cased) with a quality above 0; a
 * wildcard does not count, so a client gets another form of answer only by asking for it.
 * @example acceptsExactly('text/event-stream, application/json;q=0.9', 'text/event-stream') // true
 */
export function acceptsExactly(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    return type === mediaType && (quality === undefined || Number(quality.slice(2)) > 0);
  });
}
