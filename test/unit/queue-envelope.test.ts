// How a gateway reads a MODE=queue worker's envelope back into a result: a structured output's
// files rebuilt from their data: URLs (by the model's output description), files a worker uploaded
// kept as URLs with their list, and a single uploaded file refused with the way out.
import { describe, expect, test } from 'vitest';
import { resultOfEnvelope } from '../../src/queue/envelope.js';
import { isOutputResult } from '../../src/result/output-fields.js';
import type { OutputDescription } from '../../src/types.js';
import { upstreamUploads } from '../../src/uploads/uploaded-file.js';
import { OutputUploads } from '../../src/uploads/output-uploads.js';

// The 8 bytes every PNG starts with, then enough of an IHDR for the format to be sniffed.
const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const dataUrl = `data:image/png;base64,${png.toString('base64')}`;
const description: OutputDescription = {
  type: 'fields',
  fields: { label: { type: 'json' }, mask: { type: 'image', mediaType: 'image/png' }, frames: { type: 'image', list: true } },
};

describe('resultOfEnvelope', () => {
  test('a structured output: its files rebuilt from their data: URLs, its data fields as they are, a JSON string that looks like a file left alone', () => {
    const result = resultOfEnvelope({ output: { label: dataUrl, mask: dataUrl, frames: [dataUrl, dataUrl] }, content_type: 'application/json' }, description);
    expect(isOutputResult(result)).toBe(true);
    const data = result.data as any;
    expect(data.label).toBe(dataUrl);
    expect(data.mask).toEqual({ 'content-type': 'image/png', data: png, success: true });
    expect(data.frames.map((file: { data: Buffer }) => file.data)).toEqual([png, png]);
  });

  test('without a fields description, or with a file field that is no data: URL, it stays JSON', () => {
    const envelope = { output: { label: 'x', mask: dataUrl }, content_type: 'application/json' };
    expect(resultOfEnvelope(envelope)).toEqual({ 'content-type': 'application/json', data: JSON.stringify(envelope.output), success: true });
    const uploaded = { output: { label: 'x', mask: 'https://store.example/p/mask.png', frames: [] }, content_type: 'application/json' };
    expect(isOutputResult(resultOfEnvelope(uploaded, description))).toBe(false);
  });

  test("files the worker uploaded: the JSON keeps their URLs and carries their list, which the gateway's uploads pass on without a PUT", async () => {
    const uploads = [{ field: 'mask', url: 'https://store.example/p/mask.png', content_type: 'image/png', bytes: 9 }];
    const result = resultOfEnvelope({ output: { label: 'x', mask: uploads[0]!.url }, content_type: 'application/json', uploads }, description);
    expect(upstreamUploads(result)).toEqual(uploads);
    expect(JSON.stringify(result)).not.toContain('uploaded');
    // No upload URL here: a PUT would be impossible, and none is tried.
    const outputUploads = new OutputUploads({
      url: 'http://127.0.0.1:9/never',
      concurrency: 1,
      timeoutMs: 1000,
      maxRedirects: 0,
      allowPrivate: false,
      allowHosts: [],
    });
    const prediction = { inputs: {}, result, report: { ok: true, problems: [], summary: '' }, mediaType: 'application/json', queueMs: 0, predictMs: 0 };
    expect((await outputUploads.apply(prediction, { predictionId: 'p' })).uploads).toEqual(uploads);
  });

  test('a single file the worker uploaded is refused, naming the way out', () => {
    expect(() => resultOfEnvelope({ output: 'https://store.example/p/output.png', content_type: 'image/png', uploads: [{}] })).toThrow(
      /set OUTPUT_UPLOAD_URL on the gateway instead of the workers/,
    );
  });
});
