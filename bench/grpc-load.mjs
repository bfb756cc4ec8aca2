// The gRPC benchmark's load generator, a process of its own: CALLERS concurrent callers for
// SECONDS (after a second's warm-up), each sending its next request when the last is answered.
//   node bench/grpc-load.mjs grpc HOST:PORT SECONDS CALLERS   ModelInfer with raw contents (the JPEG), one channel
//   node bench/grpc-load.mjs rest URL SECONDS CALLERS         POST URL, KServe V2 with binary tensor data, undici, one connection per caller
// Prints {"requests": N, "seconds": S, "rps": R, "errors": E} on stdout.
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Pool } from 'undici';
import { benchJpeg } from './bench-jpeg.mjs';

const [kind, target, secondsText, callersText] = process.argv.slice(2);
const seconds = Number(secondsText);
const callers = Number(callersText);
const prefixed = Buffer.concat([Buffer.alloc(4), benchJpeg]);
prefixed.writeUInt32LE(benchJpeg.length);

let call;
let close;
if (kind === 'grpc') {
  const definition = loadSync(new URL('../modes/kserve/open_inference_grpc.proto', import.meta.url).pathname, {
    keepCase: true,
    longs: String,
    defaults: false,
  });
  const { inference } = loadPackageDefinition(definition);
  const client = new inference.GRPCInferenceService(target, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
  const request = { model_name: 'constant-model', inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }], raw_input_contents: [prefixed] };
  call = () => new Promise((resolve) => client.ModelInfer(request, (error, response) => resolve(!error && response.raw_output_contents.length === 1)));
  close = () => client.close();
} else {
  const url = new URL(target);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: prefixed.length } }] }));
  const body = Buffer.concat([header, prefixed]);
  const pool = new Pool(url.origin, { connections: callers });
  const options = {
    path: url.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body,
  };
  call = async () => {
    const response = await pool.request(options);
    await response.body.arrayBuffer();
    return response.statusCode === 200;
  };
  close = () => pool.close();
}

let requests = 0;
let errors = 0;
let counting = false;
let running = true;
const caller = async () => {
  while (running) {
    const ok = await call().catch(() => false);
    if (!counting) continue;
    if (ok) requests++;
    else errors++;
  }
};
const loops = Array.from({ length: callers }, caller);
await new Promise((resolve) => setTimeout(resolve, 1000));
counting = true;
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
counting = false;
const elapsed = (performance.now() - started) / 1000;
running = false;
await Promise.all(loops);
await close();
console.log(JSON.stringify({ requests, seconds: elapsed, rps: requests / elapsed, errors }));
