// An image input must carry a known signature AND a header that parses whole: four bytes of JPEG
// signature no longer reach the model.
import { FormData, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg, sha256 } from '../helpers/images.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, runScript, stdoutJson } from '../helpers/run-process.js';

// A JPEG start-of-image and APP0 marker, then a few bytes of nothing: the signature, no header.
const signatureOnly = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), Buffer.from('0010JFIF', 'latin1')]);
const refusal = `image: is not an image that can be decoded (${signatureOnly.length} bytes with a jpeg signature, but its header cannot be read: `;
let photo: Buffer;
let server: RunningServer;

beforeAll(async () => {
  photo = await makeJpeg(32, 20);
  server = await startServer(fixture('http-model.mjs'));
});
afterAll(async () => {
  await server.stop();
});

const postJson = (image: Buffer) =>
  request(`${server.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { image: image.toString('base64') } }),
  });

function postMultipart(image: Buffer) {
  const form = new FormData();
  form.append('image', new Blob([image], { type: 'image/jpeg' }), 'photo.jpg');
  return request(`${server.url}/predict`, { method: 'POST', body: form });
}

describe('image inputs are checked to have a readable header', () => {
  test.each([
    { how: 'JSON (base64)', post: postJson },
    { how: 'multipart', post: postMultipart },
  ])('POST /predict $how: a JPEG signature without a header is 422 naming the field; a real JPEG is served', async ({ post }) => {
    const refused = await post(signatureOnly);
    expect(refused.statusCode).toBe(422);
    const { error } = (await refused.body.json()) as { error: { code: string; field: string; message: string } };
    expect(error).toMatchObject({ code: 'AI_ERR_INVALID_INPUT', field: 'image' });
    expect(error.message).toContain(refusal);
    expect(error.message).toMatch(/Corrupt JPG, exceeded buffer limits\); expected an image \(JPEG, PNG, WebP, GIF, TIFF or AVIF bytes\)$/);

    const served = await post(photo);
    expect(served.statusCode).toBe(200);
    expect(((await served.body.json()) as { output: unknown }).output).toMatchObject({ received: { image: '32x20 jpeg' } });
  });

  test('test_single_image: exit 2 with the message; a real JPEG still works', async () => {
    const echoModel = fixture('echo-model.mjs');
    const refused = await runScript(echoModel, { mode: 'test_single_image', stdin: signatureOnly });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(refusal);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(refused.stdout.length).toBe(0);

    const served = await runScript(echoModel, { mode: 'test_single_image', stdin: photo });
    expect(served.code).toBe(0);
    expect(stdoutJson(served).inputs.image).toEqual({ bytes: photo.length, sha256: sha256(photo) });
  });
});
