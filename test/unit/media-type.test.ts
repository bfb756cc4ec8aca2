import { describe, expect, test } from 'vitest';
import { acceptsExactly, isJsonType, isTextual, mediaKind, parseMediaType } from '../../src/media-type.js';

describe('media types', () => {
  test('parseMediaType lower-cases and drops the parameters; undefined for what does not parse', () => {
    expect(parseMediaType('Text/Plain; charset=utf-8')).toBe('text/plain');
    expect(parseMediaType('application/vnd.api+json')).toBe('application/vnd.api+json');
    expect(parseMediaType('not a type')).toBeUndefined();
    expect(parseMediaType('')).toBeUndefined();
  });

  test.each([
    ['application/json', 'json'],
    ['application/ld+json', 'json'],
    ['application/geo+json', 'json'],
    ['text/plain', 'text'],
    ['text/csv', 'text'],
    ['text/html', 'text'],
    ['image/jpeg', 'binary'],
    ['image/svg+xml', 'binary'],
    ['application/xml', 'binary'],
    ['application/octet-stream', 'binary'],
    ['application/jsonlines', 'binary'],
    ['', 'binary'],
  ] as const)('%s is %s', (mediaType, kind) => {
    expect(mediaKind(mediaType)).toBe(kind);
    expect(isJsonType(mediaType)).toBe(kind === 'json');
    expect(isTextual(mediaType)).toBe(kind !== 'binary');
  });
});

describe('acceptsExactly', () => {
  test.each([
    [undefined, false],
    ['', false],
    ['text/event-stream', true],
    ['Text/Event-Stream', true],
    ['application/json, text/event-stream;q=0.5', true],
    ['text/event-stream;q=0', false],
    ['text/*', false],
    ['*/*', false],
  ])('%j names text/event-stream: %s', (accept, named) => {
    expect(acceptsExactly(accept, 'text/event-stream')).toBe(named);
  });
});
