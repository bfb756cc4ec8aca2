// WEIGHTS_URL's entries and WEIGHTS_DIR's default, as the settings table reads them.
import { describe, expect, test } from 'vitest';
import { AiIntegrationError } from '../../src/errors.js';
import { defaultWeightsDir, describeUrl, parseWeightsUrls } from '../../src/settings-parts/weights.js';
import { readSetting } from '../../src/settings-table.js';

const sha = 'ab'.repeat(32);

describe('WEIGHTS_URL', () => {
  test('entries separated by spaces or commas, each named by its last path segment or #name=, with an optional #sha256=', () => {
    expect(
      parseWeightsUrls(
        `https://models.example/v1/model.onnx#sha256=${sha.toUpperCase()} , file:///weights/tok%20en.json\nhttp://h/dl?id=3#name=vocab.txt&sha256=${sha}`,
      ),
    ).toEqual([
      { url: 'https://models.example/v1/model.onnx', name: 'model.onnx', sha256: sha },
      { url: 'file:///weights/tok%20en.json', name: 'tok en.json' },
      { url: 'http://h/dl?id=3', name: 'vocab.txt', sha256: sha },
    ]);
    expect(readSetting({ WEIGHTS_URL: ' ' }, 'WEIGHTS_URL')).toBeUndefined();
  });

  test('refuses, naming the entry: another scheme, a malformed sha256 or option, no file name, two entries with one name', () => {
    const refusal = (text: string) => {
      try {
        parseWeightsUrls(text);
      } catch (error) {
        expect(error).toBeInstanceOf(AiIntegrationError);
        expect((error as AiIntegrationError).code).toBe('AI_ERR_INVALID_OPTION');
        return (error as Error).message;
      }
      throw new Error(`${text} was accepted`);
    };
    expect(refusal('s3://bucket/model.bin')).toBe(
      "WEIGHTS_URL: the scheme s3:// of s3://bucket/model.bin is not fetched; only http://, https://, file:// and gs://; give the object's https:// URL (a presigned URL for a private bucket), or copy it in the shim with the cloud's SDK (docs/how-to/weights.md)",
    );
    expect(refusal('ftp://host/model.bin')).toBe(
      'WEIGHTS_URL: the scheme ftp:// of ftp://host/model.bin is not fetched; only http://, https://, file:// and gs://',
    );
    expect(refusal('model.bin')).toBe('WEIGHTS_URL: "model.bin" is not a URL (http://, https://, file:// or gs://)');
    expect(refusal('https://h/m.bin#sha256=abc')).toBe('WEIGHTS_URL: #sha256=abc of https://h/m.bin is not #sha256=<64 hex digits> or #name=<a file name>');
    expect(refusal('https://h/m.bin#md5=abc')).toContain('#md5=abc of https://h/m.bin is not');
    expect(refusal('https://h/#name=../etc')).toContain('#name=../etc of https://h/ is not');
    expect(refusal('https://h/')).toBe('WEIGHTS_URL: https://h/ names no file; give it one with #name=FILE');
    expect(refusal('https://a/m.bin https://b/m.bin')).toBe('WEIGHTS_URL: two entries are named "m.bin"; give one another name with #name=FILE');
  });

  test("messages show a URL without its query (a signed URL's signature) or user info", () => {
    expect(describeUrl('https://user:secret@bucket.s3.amazonaws.com/m.bin?X-Amz-Signature=abc#sha256=1')).toBe('https://bucket.s3.amazonaws.com/m.bin?…');
  });
});

describe('WEIGHTS_DIR', () => {
  test('defaults to the cache folder XDG names: $XDG_CACHE_HOME, else ~/.cache', () => {
    expect(defaultWeightsDir({ XDG_CACHE_HOME: '/cache', HOME: '/home/me' })).toBe('/cache/ai-integration/weights');
    expect(defaultWeightsDir({ HOME: '/home/me' })).toBe('/home/me/.cache/ai-integration/weights');
  });
});
