// The uploader of output files against a store on loopback (test/helpers/upload-receiver.ts): the
// URL layout, redirects to a signed URL, retries, refusals, the address check and the bound on
// concurrent PUTs. The address check is the URL inputs' one, tested on a replaced connector for
// the addresses no test may reach.
import { createHash } from 'node:crypto';
import type { buildConnector } from 'undici';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { UploadSettings } from '../../src/settings-parts/uploads.js';
import { parseAllowedHosts } from '../../src/settings-parts/url-inputs.js';
import { outputFileName, OutputUploader, uploadUrlOf } from '../../src/uploads/output-uploader.js';
import { UploadFailedError } from '../../src/uploads/upload-failed.js';
import type { OutputFile } from '../../src/uploads/uploaded-file.js';
import { startUploadReceiver, type UploadReceiver } from '../helpers/upload-receiver.js';

const png = (seed: number): OutputFile => ({ field: 'output', contentType: 'image/png', data: Buffer.alloc(3000 + seed, seed) });
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let receiver: UploadReceiver;
let uploaders: OutputUploader[];
beforeEach(async () => {
  receiver = await startUploadReceiver();
  uploaders = [];
});
afterEach(async () => {
  await Promise.all(uploaders.map((uploader) => uploader.close()));
  await receiver.close();
});

function uploader(overrides: Partial<UploadSettings> = {}, hooks?: { connect?: buildConnector.connector }): OutputUploader {
  const made = new OutputUploader(
    {
      url: undefined,
      concurrency: 8,
      timeoutMs: 10_000,
      maxRedirects: 5,
      allowPrivate: false,
      allowHosts: parseAllowedHosts(receiver.allowHosts),
      ...overrides,
    },
    hooks,
  );
  uploaders.push(made);
  return made;
}

async function failure(promise: Promise<unknown>): Promise<UploadFailedError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UploadFailedError) return error;
    throw error;
  }
  throw new Error('expected the upload to fail');
}

describe('where a file goes', () => {
  test('<url>/<prediction id>/<field>.<ext>, each segment encoded, the extension from the media type', () => {
    expect(uploadUrlOf('https://store.example/outputs', 'abc', { field: 'output', contentType: 'image/png' }).href).toBe(
      'https://store.example/outputs/abc/output.png',
    );
    expect(uploadUrlOf('https://store.example/outputs/', 'a/b c', { field: 'mask', contentType: 'image/jpeg' }).href).toBe(
      'https://store.example/outputs/a%2Fb%20c/mask.jpg',
    );
    expect(outputFileName({ field: 'output', contentType: 'audio/mpeg' })).toBe('output.mp3');
    expect(outputFileName({ field: 'output', contentType: 'audio/wav; rate=16000' })).toBe('output.wav');
    expect(outputFileName({ field: 'output', contentType: 'application/x-made-up' })).toBe('output.bin');
  });
});

describe('uploading to the store on loopback (its hosts allowed, URL_INPUTS_ALLOW_HOSTS)', () => {
  test("a PUT with the content type and the prediction id; the URL from the answer's Location", async () => {
    const file = png(1);
    const uploaded = await uploader().uploadFiles([file], { predictionId: 'p1', baseUrl: `${receiver.api}/direct` });
    expect(uploaded).toEqual([{ field: 'output', url: `${receiver.api}/public/direct/p1/output.png`, content_type: 'image/png', bytes: file.data.length }]);
    expect(receiver.requests).toEqual([
      expect.objectContaining({
        server: 'api',
        method: 'PUT',
        url: '/direct/p1/output.png',
        contentType: 'image/png',
        predictionId: 'p1',
        sha256: sha(file.data),
        status: 201,
      }),
    ]);
  });

  test('a redirect to a signed URL is followed with the same PUT; the answer is the signed URL without its signature', async () => {
    const file = png(2);
    const [uploaded] = await uploader().uploadFiles([file], { predictionId: 'p2', baseUrl: `${receiver.api}/signed/` });
    expect(uploaded!.url).toBe(`${receiver.bucket}/signed/p2/output.png`);
    expect(receiver.requests.map((request) => [request.server, request.method, request.status])).toEqual([
      ['api', 'PUT', 307],
      ['bucket', 'PUT', 200],
    ]);
    expect(receiver.requests[1]).toMatchObject({
      url: '/signed/p2/output.png?X-Signature=s3cr3t&X-Expires=60',
      sha256: sha(file.data),
      contentType: 'image/png',
    });
    expect(receiver.stored.get('/signed/p2/output.png')).toEqual(file.data);
  });

  test('a prediction id with characters a header cannot carry: percent-encoded in X-Prediction-ID, as in the path', async () => {
    await uploader().uploadFiles([png(10)], { predictionId: 'café 1', baseUrl: `${receiver.api}/direct` });
    expect(receiver.requests[0]).toMatchObject({ url: '/direct/caf%C3%A9%201/output.png', predictionId: 'caf%C3%A9%201', status: 201 });
  });

  test('503 twice, then stored: retried as a webhook is, and answered with the URL', async () => {
    const [uploaded] = await uploader().uploadFiles([png(3)], { predictionId: 'p3', baseUrl: `${receiver.api}/flaky` });
    expect(uploaded!.url).toBe(`${receiver.api}/public/flaky/p3/output.png`);
    expect(receiver.requests.map((request) => request.status)).toEqual([503, 503, 201]);
  });

  test('403 is refused for good: one try, and an error that names the field, the URL and the answer', async () => {
    const error = await failure(uploader().uploadFiles([png(4)], { predictionId: 'p4', baseUrl: `${receiver.api}/refuse` }));
    expect(error.code).toBe('AI_ERR_UPLOAD_FAILED');
    expect(error.httpStatus).toBe(502);
    expect(error.message).toBe(`uploading the output "output" (image/png, 3004 bytes) to ${receiver.api}/refuse/p4/output.png failed: HTTP 403`);
    expect(error.uploaded).toEqual([]);
    expect(receiver.requests).toHaveLength(1);
  });

  test('of several files, the error lists those uploaded before one failed', async () => {
    const files = [png(5), { ...png(6), field: 'refused_mask' }];
    const error = await failure(uploader().uploadFiles(files, { predictionId: 'p5', baseUrl: `${receiver.api}/direct` }));
    expect(error.message).toMatch(/^uploading the output "refused_mask" .* failed: HTTP 403; uploaded: output$/);
    expect(error.uploaded).toEqual([expect.objectContaining({ field: 'output', url: `${receiver.api}/public/direct/p5/output.png` })]);
  });

  test('OUTPUT_UPLOAD_CONCURRENCY bounds the PUTs in flight, across predictions', async () => {
    let release!: () => void;
    receiver.hold = new Promise((resolve) => (release = resolve));
    const bounded = uploader({ concurrency: 2 });
    const uploads = [1, 2, 3, 4, 5].map((seed) => bounded.uploadFiles([png(seed)], { predictionId: `c${seed}`, baseUrl: `${receiver.api}/direct` }));
    // Wait until two PUTs have arrived and wait there; no third may arrive while they are held.
    while (receiver.inFlight.now < 2) await new Promise((resolve) => setImmediate(resolve));
    release();
    receiver.hold = undefined;
    await Promise.all(uploads);
    expect(receiver.inFlight.most).toBe(2);
    expect(receiver.stored.size).toBe(5);
  });
});

describe('the address check of URL inputs', () => {
  test('the store on loopback without an allow setting: refused before any request, naming the settings', async () => {
    const error = await failure(uploader({ allowHosts: [] }).uploadFiles([png(7)], { predictionId: 'p7', baseUrl: `${receiver.api}/direct` }));
    expect(error.message).toBe(
      `uploading the output "output" (image/png, 3007 bytes) to ${receiver.api}/direct/p7/output.png failed: its host is 127.0.0.1, a loopback address; private addresses are refused (URL_INPUTS_ALLOW_PRIVATE, URL_INPUTS_ALLOW_HOSTS)`,
    );
    expect(receiver.requests).toEqual([]);
  });

  test('a redirect to a host that is not allowed is refused: the API is allowed, the bucket is not', async () => {
    const error = await failure(
      uploader({ allowHosts: parseAllowedHosts(new URL(receiver.api).host) }).uploadFiles([png(8)], { predictionId: 'p8', baseUrl: `${receiver.api}/signed` }),
    );
    expect(error.message).toMatch(
      /failed: the redirect to http:\/\/127\.0\.0\.1:\d+\/signed\/p8\/output\.png, whose host is 127\.0\.0\.1, a loopback address; private addresses are refused/,
    );
    expect(receiver.requests.map((request) => request.server)).toEqual(['api']);
  });

  test('cloud metadata and private addresses are refused by the check itself: no connection is opened', async () => {
    const opened: string[] = [];
    const connect: buildConnector.connector = (options, callback) => {
      opened.push(options.hostname);
      callback(new Error('test: no connection is opened here'), null);
    };
    const checked = uploader({ allowHosts: [] }, { connect });
    for (const [base, what] of [
      ['http://169.254.169.254/latest', 'a link-local address (cloud metadata)'],
      ['http://10.1.2.3:9000/bucket', 'a private address (10.0.0.0/8)'],
      ['http://[::1]:9000/bucket', 'a loopback address'],
    ] as const) {
      const error = await failure(checked.uploadFiles([png(9)], { predictionId: 'p9', baseUrl: base }));
      expect(error.message).toContain(`, ${what}; private addresses are refused (URL_INPUTS_ALLOW_PRIVATE, URL_INPUTS_ALLOW_HOSTS)`);
    }
    expect(opened).toEqual([]);
  });
});
