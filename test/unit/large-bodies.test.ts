// Large bodies through the real HTTP core: a JSON image decoded from the body's bytes, a multipart
// file gathered into the one buffer of the body's length, a KServe tensor a view of the body. The
// model gets the same bytes each way, whether or not the body declares its length, and what is
// refused is refused as before. (How much memory each takes: bench/large-bodies.mjs.)
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const model = {
  inference: (inputs: Record<string, unknown>) => {
    const image = inputs.image as Buffer;
    const notes = inputs.notes as Buffer | undefined;
    const data = JSON.stringify({ image: digest(image), length: image.length, notes: notes && digest(notes), prompt: inputs.prompt });
    return { 'content-type': 'application/json', data, success: true };
  },
  schema: { image: { type: 'image' }, notes: { type: 'file', required: false }, prompt: { type: 'text', required: false } } as const,
};

let image: Buffer;
let notes: Buffer;
let http: InProcessService;
let kserve: InProcessService;

beforeAll(async () => {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#204060' } })
    .png()
    .toBuffer();
  image = Buffer.alloc(3 * 1024 * 1024);
  for (let index = 0; index < image.length; index++) image[index] = (index * 131 + 17) % 256;
  png.copy(image);
  notes = image.subarray(1000, 500_000);
  const env = { MAX_INPUT_BYTES: String(16 * 1024 * 1024) };
  [http, kserve] = await Promise.all([
    startInProcess({ mode: 'http', model, env }),
    startInProcess({ mode: 'kserve', model, env: { ...env, MODEL_NAME: 'm' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([http?.close(), kserve?.close()]);
});

const expected = () => ({ image: digest(image), length: image.length, notes: digest(notes), prompt: 'naïve ☃' });

function multipart(): { body: Buffer; type: string } {
  const boundary = 'large-bodies-test';
  const part = (name: string, filename: string, bytes: Buffer) =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"; filename="${filename}"\r\ncontent-type: application/octet-stream\r\n\r\n`),
      bytes,
      Buffer.from('\r\n'),
    ]);
  const body = Buffer.concat([
    part('image', 'a.png', image),
    Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="prompt"\r\n\r\nnaïve ☃\r\n`),
    part('notes', 'n.bin', notes),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

// Sent as a stream of small chunks: no Content-Length, so the body is gathered in chunks.
const chunked = (bytes: Buffer) =>
  Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += 100_000) yield bytes.subarray(offset, offset + 100_000);
    })(),
  );

describe('a JSON body with a base64 image', () => {
  const json = () =>
    Buffer.from(
      JSON.stringify({
        inputs: { image: image.toString('base64'), notes: `data:application/octet-stream;base64,${notes.toString('base64')}`, prompt: 'naïve ☃' },
      }),
    );

  test('the model gets the image and the file, byte for byte, with or without a declared length, compressed or not', async () => {
    for (const [body, headers] of [
      [json(), {}],
      [chunked(json()), {}],
      [gzipSync(json()), { 'content-encoding': 'gzip' }],
    ] as const) {
      const response = await http.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', ...headers }, body });
      expect(response.status, response.text()).toBe(200);
      expect(response.json().output).toEqual(expected());
    }
  });

  test('a bad character in a large image is a 422 naming it, as in a small one', async () => {
    const text = image.toString('base64');
    const bad = Buffer.from(JSON.stringify({ inputs: { image: `${text.slice(0, 2_000_000)}!${text.slice(2_000_001)}` } }));
    const response = await http.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, body: bad });
    expect(response.status).toBe(422);
    expect(response.json().error).toMatchObject({ code: 'AI_ERR_INVALID_INPUT', field: 'image' });
    expect(response.json().error.message).toMatch(/not valid base64/);
  });

  test('bytes that are no image are a 422, and JSON that breaks after the image a 400', async () => {
    const noImage = Buffer.from(JSON.stringify({ inputs: { image: Buffer.alloc(500_000, 1).toString('base64') } }));
    const refused = await http.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, body: noImage });
    expect(refused.status).toBe(422);
    expect(refused.json().error.message).toMatch(/^image: is not an image/);
    const broken = Buffer.concat([json().subarray(0, -1), Buffer.from(',}')]);
    const malformed = await http.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, body: broken });
    expect(malformed.status).toBe(400);
    expect(malformed.json().error.message).toMatch(/^the request body is not valid JSON/);
  });
});

describe('a multipart body', () => {
  test('the model gets each file byte for byte, with or without a declared length', async () => {
    const { body, type } = multipart();
    for (const sent of [body, chunked(body)]) {
      const response = await http.inject({ method: 'POST', url: '/predict', headers: { 'content-type': type }, body: sent });
      expect(response.status, response.text()).toBe(200);
      expect(response.json().output).toEqual(expected());
    }
  });

  test('a file given twice: the last one wins, whole', async () => {
    const boundary = 'twice';
    const part = (bytes: Buffer) =>
      Buffer.concat([Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="image"; filename="a.png"\r\n\r\n`), bytes, Buffer.from('\r\n')]);
    const body = Buffer.concat([part(image.subarray(0, 200_000)), part(image), Buffer.from(`--${boundary}--\r\n`)]);
    const response = await http.inject({ method: 'POST', url: '/predict', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    expect(response.status, response.text()).toBe(200);
    expect(response.json().output).toMatchObject({ image: digest(image), length: image.length });
  });
});

describe('a KServe body with binary tensor data', () => {
  test('the model gets the BYTES element byte for byte, with or without a declared length', async () => {
    const header = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: image.length + 4 } }] }),
    );
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(image.length);
    const body = Buffer.concat([header, prefix, image]);
    for (const sent of [body, chunked(body)]) {
      const response = await kserve.inject({
        method: 'POST',
        url: '/v2/models/m/infer',
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
        body: sent,
      });
      expect(response.status, response.text()).toBe(200);
      const output = response.json().outputs[0];
      expect(JSON.parse(output.data[0])).toMatchObject({ image: digest(image), length: image.length });
    }
  });
});
