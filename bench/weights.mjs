// WEIGHTS_URL's fetch of a 1 GB file over loopback beside `curl -o` of the same file, and the
// sha256 check beside `sha256sum` run after curl. The file server is a process of its own
// (bench/range-file-server.mjs, node:http with Range). Ours runs as a shim run directly would
// (`await weights()` from the built package, a fresh node process), into an empty folder, with
// the file's sha256 given and without it (its sha256 is still taken then, for the log line): the
// time includes node's start, the download, the hash and the flush to disk before the rename
// (curl does not flush: a row adds `sync -d` of its copy after it). Each round runs every way once, in turn;
// the figure is the median, of wall time and of CPU time (every thread of the process, from the
// kernel's count of a waited-for child: on a busy machine the wall time says more about the load
// than about the program). Usage: npm run bench -- weights [-- megabytes [rounds [connections,...]]]
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
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

const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * Runs a command to its end under a shell that then prints its own /proc stat, whose cutime and
 * cstime are the CPU time of the command it waited for (every thread); resolves with the wall
 * time and that CPU time, in seconds.
 */
function timed(command, args, env = process.env) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const script = '"$@" >&2 || exit $?; cat /proc/$$/stat';
    const child = spawn('sh', ['-c', script, 'sh', command, ...args], { env, cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stat = '';
    child.stdout.on('data', (data) => (stat += data));
    child.stderr.on('data', (data) => (output += data));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${command} exited ${code}:\n${output}`));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
      resolve({ seconds: (performance.now() - started) / 1000, cpu, output });
    });
  });
}

const ours = (connections, checked) => async () => {
  const dir = join(work, `ours-${connections}`);
  const fetch = "import('ai-integration').then(({ weights }) => weights())";
  const entry = checked ? `${url}#sha256=${sha256}` : url;
  const env = { ...process.env, WEIGHTS_URL: entry, WEIGHTS_DIR: dir, WEIGHTS_CONNECTIONS: String(connections) };
  const { seconds, cpu } = await timed(process.execPath, ['--input-type=module', '-e', fetch], env);
  rmSync(dir, { recursive: true, force: true });
  return { seconds, cpu };
};

const curl = async () => {
  const out = join(work, 'curl.bin');
  const download = await timed('curl', ['-sS', '-o', out, url]);
  // Ours is on disk before its rename; curl's copy only once this flush (fdatasync) of it ends.
  const flush = await timed('sync', ['-d', out]);
  const check = await timed('sha256sum', [out]);
  if (!check.output.startsWith(sha256)) throw new Error(`curl's copy is not the file: ${check.output}`);
  rmSync(out, { force: true });
  return { seconds: download.seconds, cpu: download.cpu, flush: flush.seconds, flushCpu: flush.cpu, check: check.seconds, checkCpu: check.cpu };
};

const ways = {
  curl,
  ...Object.fromEntries(
    connectionCounts.flatMap((count) => [
      [`ours-${count}`, ours(count, false)],
      [`ours-${count}-checked`, ours(count, true)],
    ]),
  ),
};
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
const of = (name, key) => median(results[name].map((result) => result[key]));
const curlSeconds = of('curl', 'seconds');
const curlCpu = of('curl', 'cpu');
const checkSeconds = of('curl', 'check');
const checkCpu = of('curl', 'checkCpu');
const mbps = (seconds) => `${((megabytes * 1024 * 1024) / 1e6 / seconds).toFixed(0)} MB/s`;
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`weights: ${megabytes} MiB over loopback, median of ${rounds} rounds; load average at the end ${load}`);
console.log(`| way | seconds | rate | beside curl -o | CPU seconds | CPU beside curl -o |`);
console.log(`|---|---|---|---|---|---|`);
console.log(`| curl -o (download only) | ${curlSeconds.toFixed(2)} | ${mbps(curlSeconds)} | 1.00 | ${curlCpu.toFixed(2)} | 1.00 |`);
const flushSeconds = of('curl', 'flush');
const flushCpu = of('curl', 'flushCpu');
console.log(
  `| curl -o, then sync -d (on disk, as ours is) | ${(curlSeconds + flushSeconds).toFixed(2)} | ${mbps(curlSeconds + flushSeconds)} | ${((curlSeconds + flushSeconds) / curlSeconds).toFixed(2)} | ${(curlCpu + flushCpu).toFixed(2)} | ${((curlCpu + flushCpu) / curlCpu).toFixed(2)} |`,
);
console.log(`| sha256sum after it | ${checkSeconds.toFixed(2)} | ${mbps(checkSeconds)} | | ${checkCpu.toFixed(2)} | |`);
console.log(
  `| curl -o, then sha256sum | ${(curlSeconds + checkSeconds).toFixed(2)} | ${mbps(curlSeconds + checkSeconds)} | ${((curlSeconds + checkSeconds) / curlSeconds).toFixed(2)} | ${(curlCpu + checkCpu).toFixed(2)} | ${((curlCpu + checkCpu) / curlCpu).toFixed(2)} |`,
);
const row = (label, seconds, cpu, baseline, baselineCpu) =>
  console.log(
    `| ${label} | ${seconds.toFixed(2)} | ${mbps(seconds)} | ${(seconds / baseline).toFixed(2)} | ${cpu.toFixed(2)} | ${(cpu / baselineCpu).toFixed(2)} |`,
  );
for (const count of connectionCounts) {
  const connections = `${count} connection${count === 1 ? '' : 's'}`;
  row(
    `WEIGHTS_URL, ${connections}, no #sha256 (its sha256 still taken, for the log)`,
    of(`ours-${count}`, 'seconds'),
    of(`ours-${count}`, 'cpu'),
    curlSeconds,
    curlCpu,
  );
}
console.log();
console.log(`| way | seconds | rate | beside curl -o, then sha256sum | CPU seconds | CPU beside curl -o, then sha256sum |`);
console.log(`|---|---|---|---|---|---|`);
row('curl -o, then sha256sum', curlSeconds + checkSeconds, curlCpu + checkCpu, curlSeconds + checkSeconds, curlCpu + checkCpu);
for (const count of connectionCounts) {
  const connections = `${count} connection${count === 1 ? '' : 's'}`;
  const name = `ours-${count}-checked`;
  row(`WEIGHTS_URL, ${connections}, #sha256 checked`, of(name, 'seconds'), of(name, 'cpu'), curlSeconds + checkSeconds, curlCpu + checkCpu);
}
