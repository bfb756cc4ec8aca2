// The requests bench/protocols.mjs sends (and bench/ab.mjs): the same 5.5 KB JPEG through each
// protocol adapter's predict route, each with the MODE that serves it.
import { benchJpeg } from './bench-jpeg.mjs';

export const jpeg = benchJpeg;
const base64 = jpeg.toString('base64');

// Triton's binary tensor extension: the JSON header, then each BYTES element as a 4-byte
// little-endian length and its bytes.
const binaryHeader = JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: jpeg.length + 4 } }] });
const lengthPrefix = Buffer.alloc(4);
lengthPrefix.writeUInt32LE(jpeg.length);

export const json = { 'content-type': 'application/json' };
export const scenarios = [
  { name: 'native POST /predict', mode: 'http', path: '/predict', headers: json, body: JSON.stringify({ inputs: { image: base64 } }) },
  {
    name: 'KServe V2 infer (JSON)',
    mode: 'kserve',
    path: '/v2/models/constant-model/infer',
    headers: json,
    body: JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [base64] }] }),
  },
  {
    name: 'KServe V2 infer (binary)',
    mode: 'kserve',
    path: '/v2/models/constant-model/infer',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(Buffer.byteLength(binaryHeader)) },
    body: Buffer.concat([Buffer.from(binaryHeader), lengthPrefix, jpeg]),
  },
  {
    name: 'KServe V1 predict',
    mode: 'kserve',
    path: '/v1/models/constant-model:predict',
    headers: json,
    body: JSON.stringify({ instances: [{ image: { b64: base64 } }] }),
  },
  {
    name: 'Cog POST /predictions',
    mode: 'cog',
    path: '/predictions',
    headers: json,
    body: JSON.stringify({ input: { image: `data:image/jpeg;base64,${base64}` } }),
  },
  { name: 'SageMaker /invocations (JSON)', mode: 'sagemaker', path: '/invocations', headers: json, body: JSON.stringify({ image: base64 }) },
  { name: 'SageMaker /invocations (raw JPEG)', mode: 'sagemaker', path: '/invocations', headers: { 'content-type': 'image/jpeg' }, body: jpeg },
  { name: 'Vertex predict ({"b64": ...})', mode: 'vertex', path: '/predict', headers: json, body: JSON.stringify({ instances: [{ image: { b64: base64 } }] }) },
];
