// Memory per byte of a large request body: one body at a time to a fresh process, the peak
// resident memory it added (VmHWM read after the answer, minus VmRSS once idle; under the
// supervisor, the supervisor's and the worker's added together) divided by the body's size.
// Three kinds of body, each carrying one image (a PNG header, then filler) to a model that only
// reads its length (bench/length-model.mjs):
//   json       POST /predict {"inputs": {"image": "<base64>"}}            (MODE=http)
//   json-lines the same, the base64 in lines of 76 characters (by name only)
//   kserve-json POST /v2/models/m/infer, a BYTES tensor of one base64 element (by name only)
//   multipart  POST /predict, the image as a file part                    (MODE=http)
//   binary     POST /v2/models/m/infer, a BYTES tensor as binary data     (MODE=kserve,
//              Inference-Header-Content-Length)
// each run directly (node bench/length-model.mjs) and supervised (node dist/cli.js ...), beside
// a bare node:http server that reads the same body the usual way (bench/bare-body-server.mjs).
// Before each measurement a small body of the same kind warms the process up (lazy modules,
// JIT), then /proc/PID/clear_refs resets its peak.
// Usage: npm run bench -- large-bodies [-- sizes-in-MB [rounds [kinds [ways]]]]
//   e.g. -- 50,200 2 json,multipart,binary direct,supervised,bare
import { constants } from 'node:buffer';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const sizesMb = (process.argv[2] ?? '50,200').split(',').map(Number);
const rounds = Number(process.argv[3] ?? 1);
const kinds = (process.argv[4] ?? 'json,multipart,binary').split(',');
const ways = (process.argv[5] ?? 'direct,supervised,bare').split(',');
const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const megabyte = 1024 * 1024;
// The limit fits the largest body (json-lines is a fortieth longer than its size), within V8's longest string.
const maxInputBytes = Math.min(constants.MAX_STRING_LENGTH, Math.ceil(Math.max(...sizesMb) * megabyte * 1.05));

// A real PNG header (sharp's), then filler: the image check reads the header, the model the length.
const pngHeader = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
  .png()
  .toBuffer();
function image(length) {
  const bytes = Buffer.alloc(length);
  for (let offset = pngHeader.length; offset < length; offset += 4096) bytes[offset] = offset & 0xff;
  pngHeader.copy(bytes);
  return bytes;
}

const boundary = '----large-bodies-boundary';
/** The request for a body of about `size` bytes of this kind: its path, headers, body, and the image's length. */
function body(kind, size) {
  if (kind === 'json' || kind === 'json-lines') {
    const data = image(Math.floor((size * 3) / 4));
    const base64 = data.toString('base64');
    // json-lines: the base64 broken into lines of 76 (MIME's, as some encoders write it), each break a JSON \n.
    const value = kind === 'json' ? base64 : base64.replace(/.{76}/g, '$&\\n');
    const text = Buffer.from(`{"inputs":{"image":"${value}"}}`);
    return { path: '/predict', headers: { 'content-type': 'application/json' }, body: text, length: data.length };
  }
  if (kind === 'kserve-json') {
    const data = image(Math.floor((size * 3) / 4));
    const text = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [data.toString('base64')] }] }));
    return { path: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, body: text, length: data.length };
  }
  if (kind === 'multipart') {
    const data = image(size);
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="image"; filename="image.png"\r\ncontent-type: image/png\r\n\r\n`);
    return {
      path: '/predict',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Buffer.concat([head, data, Buffer.from(`\r\n--${boundary}--\r\n`)]),
      length: data.length,
    };
  }
  const data = image(size);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: data.length + 4 } }] }));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(data.length);
  return {
    path: '/v2/models/m/infer',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, prefix, data]),
    length: data.length,
  };
}

function start(kind, way) {
  const args =
    way === 'bare'
      ? [file('./bare-body-server.mjs')]
      : way === 'supervised'
        ? [file('../dist/cli.js'), file('./length-model.mjs')]
        : [file('./length-model.mjs')];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      MODE: kind === 'binary' || kind === 'kserve-json' ? 'kserve' : 'http',
      MODEL_NAME: 'm',
      PORT: '0',
      HOST: '127.0.0.1',
      MAX_INPUT_BYTES: String(maxInputBytes),
      MAX_BUFFERED_BYTES: String(4 * maxInputBytes),
      ACCESS_LOG: process.env.ACCESS_LOG ?? 'false',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(stderr);
      if (match) resolve({ url: match[1], child, stderr: () => stderr });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}): ${stderr}`)));
  });
}

function send(url, { path, headers, body: bytes }) {
  return new Promise((resolve, reject) => {
    // A connection of its own: one kept alive from the warm-up may be closed by the server while the large body is being built.
    const outgoing = request(`${url}${path}`, { method: 'POST', agent: false, headers: { ...headers, 'content-length': bytes.length } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    outgoing.on('error', reject);
    outgoing.end(bytes);
  });
}

/** The process and its descendants (the supervisor's workers), by the parent ids in /proc. */
function processTree(root) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), parent);
    } catch {
      // gone meanwhile
    }
  }
  const tree = [root];
  for (let index = 0; index < tree.length; index++) for (const [pid, parent] of parents) if (parent === tree[index]) tree.push(pid);
  return tree;
}

const kilobytesOf = (pid, field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

async function measure(kind, way, size) {
  const { url, child, stderr } = await start(kind, way);
  try {
    // Warm up with a small body of the same kind; supervised, the first answers may be 503 until the worker is ready.
    const small = body(kind, 256 * 1024);
    for (let tries = 0; ; tries++) {
      const answer = await send(url, small);
      if (answer.status === 200) break;
      if (tries > 200) throw new Error(`warm-up: ${answer.status} ${answer.text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const request = body(kind, size);
    const pids = processTree(child.pid);
    const idle = new Map();
    for (const pid of pids) {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      idle.set(pid, kilobytesOf(pid, 'VmRSS'));
    }
    const started = performance.now();
    const answer = await send(url, request);
    const seconds = (performance.now() - started) / 1000;
    if (answer.status !== 200 || !answer.text.includes(String(request.length)))
      throw new Error(`${kind} ${way}: ${answer.status} ${answer.text.slice(0, 300)}`);
    const each = pids.map((pid) => ((kilobytesOf(pid, 'VmHWM') - idle.get(pid)) * 1024) / request.body.length);
    // Of each process's resident memory, the pages of memory files it maps (the body a supervisor
    // gathered into one, mapped by its worker): counted in the VmHWM of each process that touched
    // them, so a page both touched would count twice. The supervisor's own mapping of it holds only
    // the pages it read (the image's header): this shows it.
    const shared = pids.map((pid) => (kilobytesOf(pid, 'RssShmem') * 1024) / request.body.length);
    return { perByte: each.reduce((sum, value) => sum + value, 0), each, shared, seconds };
  } catch (error) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const ended = child.exitCode === null && child.signalCode === null ? 'running' : `ended (${child.exitCode ?? child.signalCode})`;
    throw new Error(`${kind} ${way}: ${error.message}; the server is ${ended}, its log:\n${stderr().slice(-2000)}`);
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode === null && child.signalCode === null ? child.once('exit', resolve) : resolve()));
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`peak memory added per body byte (VmHWM after the answer minus idle VmRSS), median of ${rounds} fresh process(es) each; node ${process.version}`);
console.log('size MB  kind       way         bytes/body byte  (range)        seconds  per process (supervisor, worker)');
for (const sizeMb of sizesMb) {
  for (const kind of kinds) {
    for (const way of ways) {
      const results = [];
      for (let round = 0; round < rounds; round++) results.push(await measure(kind, way, sizeMb * megabyte));
      const perByte = results.map((result) => result.perByte);
      const range = rounds > 1 ? `(${Math.min(...perByte).toFixed(2)}-${Math.max(...perByte).toFixed(2)})` : '';
      const middle = results.find((result) => result.perByte === median(perByte));
      const each = middle.each.length > 1 ? `  ${middle.each.map((value) => value.toFixed(2)).join(' + ')}` : '';
      const shared = middle.shared.some((value) => value >= 0.01)
        ? `  (mapped from memory files at the end: ${middle.shared.map((value) => value.toFixed(2)).join(' + ')})`
        : '';
      console.log(
        `${String(sizeMb).padStart(7)}  ${kind.padEnd(9)}  ${way.padEnd(10)}  ${median(perByte).toFixed(2).padStart(15)}  ${range.padEnd(13)}  ${median(
          results.map((result) => result.seconds),
        )
          .toFixed(2)
          .padStart(7)}${each}${shared}`,
      );
    }
  }
}
