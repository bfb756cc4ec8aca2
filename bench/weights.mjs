// WEIGHTS_URL's fetch of a 1 GB file over loopback beside `curl -o` of the same file, and the
// sha256 check beside `sha256sum` run after curl. The file server is a process of its own
// (bench/range-file-server.mjs, node:http with Range). Ours runs as a shim run directly would
// (`await weights()` from the built package, a fresh node process), into an empty folder, with
// the file's sha256 given: the time includes node's start, the download, the check and the
// flush to disk before the rename (curl does not flush). Each round runs every way once, in turn;
// the figure is the median. Usage: npm run bench -- weights [-- megabytes [rounds [connections,...]]]
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const megabytes = Number(process.argv[2] ?? 1024);
const rounds = Number(process.argv[3] ?? 3);
const connectionCounts = (process.argv[4] ?? '1,4,8').split(',').map(Number);
const repo = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'bench-weights-'));

// The file: random bytes (nothing compresses or repeats), its sha256 computed as it is written.
const source = join(work, 'model.bin');
const hash = createHash('sha256');
const block = Buffer.alloc(1024 * 1024);
const fd = openSync(source, 'w');
for (let index = 0; index < megabytes; index += 1) {
  randomFillSync(block);
  hash.update(block);
  writeSync(fd, block);
}
closeSync(fd);
const sha256 = hash.digest('hex');

const server = spawn(process.execPath, [join(repo, 'bench/range-file-server.mjs'), source], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => server.stdout.once('data', (data) => resolve(Number(String(data).trim()))));
const url = `http://127.0.0.1:${port}/model.bin`;

/** Runs a command to its end; resolves with its wall time in seconds. */
function timed(command, args, env = process.env) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data) => (output += data));
    child.stderr.on('data', (data) => (output += data));
    child.on('exit', (code) =>
      code === 0 ? resolve({ seconds: (performance.now() - started) / 1000, output }) : reject(new Error(`${command} exited ${code}:\n${output}`)),
    );
  });
}

const ours = (connections) => async () => {
  const dir = join(work, `ours-${connections}`);
  const fetch = "import('ai-integration').then(({ weights }) => weights())";
  const env = { ...process.env, WEIGHTS_URL: `${url}#sha256=${sha256}`, WEIGHTS_DIR: dir, WEIGHTS_CONNECTIONS: String(connections) };
  const { seconds } = await timed(process.execPath, ['--input-type=module', '-e', fetch], env);
  rmSync(dir, { recursive: true, force: true });
  return { seconds };
};

const curl = async () => {
  const out = join(work, 'curl.bin');
  const download = await timed('curl', ['-sS', '-o', out, url]);
  const check = await timed('sha256sum', [out]);
  if (!check.output.startsWith(sha256)) throw new Error(`curl's copy is not the file: ${check.output}`);
  rmSync(out, { force: true });
  return { seconds: download.seconds, check: check.seconds };
};

const ways = { curl, ...Object.fromEntries(connectionCounts.map((count) => [`ours-${count}`, ours(count)])) };
const results = Object.fromEntries(Object.keys(ways).map((name) => [name, []]));
try {
  spawnSync('sync');
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, run] of Object.entries(ways)) results[name].push(await run());
  }
} finally {
  server.kill();
  rmSync(work, { recursive: true, force: true });
}

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];
const curlSeconds = median(results.curl.map((result) => result.seconds));
const checkSeconds = median(results.curl.map((result) => result.check));
const mbps = (seconds) => `${((megabytes * 1024 * 1024) / 1e6 / seconds).toFixed(0)} MB/s`;
console.log(`weights: ${megabytes} MiB over loopback, median of ${rounds} rounds`);
console.log(`| way | seconds | rate | beside curl -o |`);
console.log(`|---|---|---|---|`);
console.log(`| curl -o (download only) | ${curlSeconds.toFixed(2)} | ${mbps(curlSeconds)} | 1.00 |`);
console.log(`| sha256sum after it | ${checkSeconds.toFixed(2)} | ${mbps(checkSeconds)} | |`);
console.log(
  `| curl -o, then sha256sum | ${(curlSeconds + checkSeconds).toFixed(2)} | ${mbps(curlSeconds + checkSeconds)} | ${((curlSeconds + checkSeconds) / curlSeconds).toFixed(2)} |`,
);
for (const count of connectionCounts) {
  const seconds = median(results[`ours-${count}`].map((result) => result.seconds));
  const over = seconds - curlSeconds;
  console.log(
    `| WEIGHTS_URL, ${count} connection${count === 1 ? '' : 's'}, checked | ${seconds.toFixed(2)} | ${mbps(seconds)} | ${(seconds / curlSeconds).toFixed(2)} (${over >= 0 ? '+' : ''}${over.toFixed(2)} s; sha256sum: +${checkSeconds.toFixed(2)} s) |`,
  );
}
