// A gs:// weights folder of many small files (a model's configs, tokenizer files, small shards),
// fetched by `await weights()` from the built package through a Cloud Storage JSON API on loopback
// that waits LATENCY ms before each answer, as a round trip to a bucket's region does. Ours runs
// with WEIGHTS_CONNECTIONS=1 (one object at a time, as every folder was fetched before) and with
// more (small objects side by side), beside curl fetching the same objects one after another over
// one connection, and `curl --parallel --parallel-max N`. Ours also lists the folder, asks one byte
// of each object first (its size, ETag and whether ranges are served), checks each object's MD5 and
// flushes it to disk; curl does none of these. Median wall time of the rounds.
// Usage: npm run bench -- storage-folder [-- files [kilobytes [latency-ms [rounds [connections,...]]]]]
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fileCount = Number(process.argv[2] ?? 40);
const kilobytes = Number(process.argv[3] ?? 100);
const latencyMs = Number(process.argv[4] ?? 20);
const rounds = Number(process.argv[5] ?? 3);
const connectionCounts = (process.argv[6] ?? '1,4,8').split(',').map(Number);
const repo = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'bench-storage-folder-'));

const objects = new Map(
  Array.from({ length: fileCount }, (_, index) => {
    const data = randomBytes(kilobytes * 1000);
    return [
      `model/part-${String(index).padStart(3, '0')}.bin`,
      { data, md5: createHash('md5').update(data).digest('base64'), generation: String(1000 + index) },
    ];
  }),
);

// The JSON API's three requests: the listing (one page), an object's metadata, and its bytes (with Range).
const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://storage');
  setTimeout(() => {
    const name = /^\/storage\/v1\/b\/bucket\/o\/(.+)$/.exec(url.pathname)?.[1];
    if (url.pathname === '/storage/v1/b/bucket/o') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const items = [...objects].filter(([key]) => key.startsWith(prefix)).map(([key, object]) => describe(key, object));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'storage#objects', items }));
      return;
    }
    const object = name === undefined ? undefined : objects.get(decodeURIComponent(name));
    if (!object) {
      response.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('alt') !== 'media') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(describe(decodeURIComponent(name), object)));
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    const size = object.data.length;
    if (!range) {
      response.writeHead(200, { 'content-length': size, etag: `"${object.md5}"` }).end(object.data);
      return;
    }
    const start = Number(range[1]);
    const end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
    response
      .writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1, etag: `"${object.md5}"` })
      .end(object.data.subarray(start, end + 1));
  }, latencyMs);
});
const describe = (name, object) => ({ kind: 'storage#object', name, size: String(object.data.length), generation: object.generation, md5Hash: object.md5 });
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const endpoint = `http://127.0.0.1:${server.address().port}`;
const mediaUrl = (name) => `${endpoint}/storage/v1/b/bucket/o/${encodeURIComponent(name)}?alt=media`;

/** Runs a command to its end; resolves with its wall time in seconds. */
function timed(command, args, env = process.env) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr.on('data', (data) => (output += data));
    child.on('exit', (code) => (code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`${command} exited ${code}:\n${output}`))));
  });
}

/** Every object's bytes as curl or ours left them in `dir`, checked against the originals. */
function check(dir, nameOf) {
  for (const [name, object] of objects) {
    if (!readFileSync(join(dir, nameOf(name))).equals(object.data)) throw new Error(`${name} differs`);
  }
}

const ours = (connections) => async () => {
  const dir = join(work, `ours-${connections}`);
  const env = {
    ...process.env,
    WEIGHTS_URL: 'gs://bucket/model/',
    WEIGHTS_DIR: dir,
    WEIGHTS_CONNECTIONS: String(connections),
    STORAGE_EMULATOR_HOST: endpoint,
    LOG_LEVEL: 'warn',
  };
  const seconds = await timed(process.execPath, ['--input-type=module', '-e', "import('ai-integration').then(({ weights }) => weights())"], env);
  check(join(dir, 'model'), (name) => name.slice('model/'.length));
  rmSync(dir, { recursive: true, force: true });
  return seconds;
};

const curl = (parallel) => async () => {
  const dir = join(work, `curl-${parallel}`);
  const outputs = [...objects.keys()].flatMap((name) => ['-o', join(dir, name.replaceAll('/', '_')), mediaUrl(name)]);
  const seconds = await timed('curl', [
    '-sS',
    '--fail',
    '--create-dirs',
    ...(parallel > 1 ? ['--parallel', '--parallel-max', String(parallel)] : []),
    ...outputs,
  ]);
  check(dir, (name) => name.replaceAll('/', '_'));
  rmSync(dir, { recursive: true, force: true });
  return seconds;
};

const parallelCurl = Math.max(...connectionCounts.filter((count) => count > 1), 4);
const ways = {
  'curl, one at a time': curl(1),
  [`curl --parallel --parallel-max ${parallelCurl}`]: curl(parallelCurl),
  ...Object.fromEntries(
    connectionCounts.map((count) => [`WEIGHTS_URL gs:// folder, WEIGHTS_CONNECTIONS=${count}${count === 1 ? ' (one object at a time)' : ''}`, ours(count)]),
  ),
};
const results = Object.fromEntries(Object.keys(ways).map((name) => [name, []]));
try {
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, run] of Object.entries(ways)) results[name].push(await run());
  }
} finally {
  server.close();
  rmSync(work, { recursive: true, force: true });
}

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];
const sequential = median(results['curl, one at a time']);
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `storage folder: ${fileCount} objects of ${kilobytes} kB, ${latencyMs} ms before each answer, median of ${rounds} rounds; load average at the end ${load}`,
);
console.log('| way | seconds | beside curl one at a time |');
console.log('|---|---:|---:|');
for (const [name, values] of Object.entries(results)) {
  const seconds = median(values);
  console.log(`| ${name} | ${seconds.toFixed(2)} | ${(seconds / sequential).toFixed(2)} |`);
}
