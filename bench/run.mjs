// The benchmarks' one runner: installs the system packages the chosen benchmarks need (once),
// builds (once), then runs each benchmark as its own node process, in the order of the table.
//
//   npm run bench                           every benchmark but ab
//   npm run bench -- http ipc               those
//   npm run bench -- http -- 5 10 3         one benchmark, with its own arguments after `--`
//   npm run bench -- ab -- BASE HEAD 5 9    an A/B of two built checkouts
//   npm run bench -- --list                 the names, one line each
//   npm run bench -- --no-build http        without `npm run build` (dist/ as it is)
//
// Environment variables pass through as they are (ROUTES=... for ab).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { closest, distance } from 'fastest-levenshtein';

const repo = fileURLToPath(new URL('..', import.meta.url));

// args: the benchmark's own arguments (after `--`). needs: 'wrk' runs `scripts/system-packages.sh
// bench` first (wrk and what the tests need), 'system' runs `scripts/system-packages.sh` (python3,
// podman, redis-server, ...). build: false for a benchmark that does not load this checkout's
// dist/. byNameOnly: left out of the default run.
const benchmarks = {
  'self-test-wall-time': {
    args: '[runs]',
    file: 'self-test-wall-time.mjs',
    about: 'whole-process time of MODE=test_model_integration beside bare node and a bare sharp script',
  },
  startup: {
    args: '[rounds [other-checkout ...]]',
    file: 'startup.mjs',
    about: 'spawn to the first 200 on /health (direct, supervised) and a stdin mode, beside bare node',
  },
  pickle: { args: '[runs]', file: 'pickle-decode.mjs', needs: 'system', about: "readPickle beside CPython's C unpickler on the same files" },
  http: {
    args: '[seconds connections rounds]',
    file: 'http-throughput.mjs',
    needs: 'wrk',
    about: 'MODE=http req/s, direct and supervised, beside a bare node:http + busboy server',
  },
  'large-uploads': {
    args: '[seconds rounds connections]',
    file: 'large-uploads.mjs',
    needs: 'wrk',
    about: 'a 1.46 MB JPEG (multipart; KServe binary) to a no-work model, direct and supervised, beside a bare node:http + busboy server',
  },
  'output-upload': {
    args: '[requests rounds concurrency megabytes]',
    file: 'output-upload.mjs',
    about: 'a 10 MB image output: the answer with OUTPUT_UPLOAD_URL (PUT to a store on loopback) beside a data URL in JSON: latency, CPU, peak RSS',
  },
  budget: {
    args: '[seconds rounds]',
    file: 'http-budget.mjs',
    needs: 'wrk',
    about: 'the bare server with N µs of JavaScript added per request, beside MODE=http',
  },
  restart: { args: '[seconds]', file: 'restart.mjs', about: "a throw to the next ready worker beside the shim's own start-up, and supervised vs direct req/s" },
  container: {
    args: '[runs]',
    file: 'container.mjs',
    needs: 'system',
    about: 'the example image: size, cold start and self-test with podman, beside the base image',
  },
  faults: { args: '[seconds]', file: 'faults.mjs', about: 'the supervised service under load, killed workers, a hung model, big uploads, slowloris' },
  protocols: {
    args: '[seconds rounds]',
    file: 'protocols.mjs',
    needs: 'wrk',
    about: 'req/s through each protocol adapter beside the native route and a bare server',
  },
  openai: {
    args: '[rounds requests seconds]',
    file: 'openai.mjs',
    needs: 'wrk',
    about:
      'MODE=openai: streamed tokens/s and first token (1 and 32 clients, direct and supervised) beside a bare SSE server; embeddings req/s beside /predict',
  },
  grpc: {
    args: '[seconds rounds callers]',
    file: 'grpc.mjs',
    about: 'MODE=kserve gRPC ModelInfer (raw contents) beside REST V2 binary and a bare grpc-js server',
  },
  weights: {
    args: '[megabytes [rounds [connections,...]]]',
    file: 'weights.mjs',
    needs: 'system',
    about: "WEIGHTS_URL's fetch of a 1 GB file over loopback (ranges, sha256 checked) beside curl -o and sha256sum after it",
  },
  'storage-folder': {
    args: '[files [kilobytes [latency-ms [rounds [connections,...]]]]]',
    file: 'storage-folder.mjs',
    about: 'a gs:// weights folder of many small objects, one at a time and side by side, beside curl sequential and curl --parallel',
  },
  lambda: { args: '[seconds rounds]', file: 'lambda.mjs', about: 'MODE=lambda invocations/s, direct and supervised, beside a bare runtime-API loop' },
  access: { args: '[seconds rounds]', file: 'access.mjs', needs: 'wrk', about: 'what the access log (text, JSON) and bearer auth cost on POST /predict' },
  workers: { args: '[seconds rounds]', file: 'workers.mjs', needs: 'wrk', about: 'WORKERS=2 against WORKERS=1 on a CPU-bound model' },
  batching: {
    args: '[seconds rounds]',
    file: 'batching.mjs',
    needs: 'wrk',
    about: 'a batched model against the same model unbatched: req/s at 16 clients, p50 at 1',
  },
  'large-bodies': {
    args: '[sizes-in-MB rounds kinds ways]',
    file: 'large-bodies.mjs',
    about: 'peak memory per body byte of a large JSON, multipart and KServe binary body, direct and supervised, beside a bare node:http server',
  },
  ipc: {
    args: '[messages rounds]',
    file: 'ipc-channel.mjs',
    build: false,
    about: "the supervisor's IPC channel by itself beside a pipe of length-prefixed v8.serialize",
  },
  queue: {
    args: '[jobs rounds concurrency]',
    file: 'queue.mjs',
    needs: 'system',
    about: 'MODE=queue jobs/s, direct and supervised, beside a bare BullMQ worker',
  },
  gateway: {
    args: '[seconds rounds jobs]',
    file: 'gateway.mjs',
    needs: 'wrk',
    about: 'POST /predict through a gateway and a queue worker beside MODE=http; 2 workers vs 1',
  },
  ab: {
    args: 'BASE_ROOT HEAD_ROOT [seconds rounds]',
    file: 'ab.mjs',
    needs: 'wrk',
    build: false,
    byNameOnly: true,
    about: 'A/B of two built checkouts on every HTTP route, base and head alternating; only by name',
  },
};

/** Prints the message and exits: every early exit goes through here. */
function fail(message, code = 2) {
  console.error(`bench: ${message}`);
  process.exit(code);
}

/** Runs a command in the repository with the terminal; fails naming `what` if it does not succeed. */
function run(what, command, args) {
  const outcome = spawnSync(command, args, { cwd: repo, stdio: 'inherit' });
  if (outcome.error) fail(`${what}: ${outcome.error.message}`, 1);
  if (outcome.status !== 0) fail(`${what} failed (${outcome.signal ?? `exit code ${outcome.status}`})`, outcome.status || 1);
}

function suggestion(word) {
  // A file's name is a likely slip too (http-throughput for http), so it is matched as well.
  const candidates = Object.entries(benchmarks).flatMap(([name, { file }]) => [
    [name, name],
    [file.replace(/\.mjs$/, ''), name],
  ]);
  const near = closest(
    word,
    candidates.map(([candidate]) => candidate),
  );
  if (distance(word, near) > Math.max(2, near.length / 3)) return '';
  return `; did you mean ${candidates.find(([candidate]) => candidate === near)[1]}?`;
}

const argv = process.argv.slice(2);
const separator = argv.indexOf('--');
const words = separator === -1 ? argv : argv.slice(0, separator);
const passed = separator === -1 ? [] : argv.slice(separator + 1);
const options = new Set(words.filter((word) => word.startsWith('-')));
const names = words.filter((word) => !word.startsWith('-'));

for (const option of options) {
  if (!['--list', '--no-build', '--help', '-h'].includes(option))
    fail(`unknown option ${option} (options: --list, --no-build; a benchmark's own arguments go after --)`);
}
if (options.has('--help') || options.has('-h')) {
  console.log('usage: npm run bench [-- [--no-build] [name ...] [-- arguments of the one benchmark named]]\n       npm run bench -- --list');
  process.exit(0);
}
if (options.has('--list')) {
  const width = Math.max(...Object.keys(benchmarks).map((name) => name.length));
  for (const [name, { args, about }] of Object.entries(benchmarks)) console.log(`${name.padEnd(width)}  ${about}; -- ${args}`);
  process.exit(0);
}

for (const name of names) if (!Object.hasOwn(benchmarks, name)) fail(`unknown benchmark "${name}"${suggestion(name)} (npm run bench -- --list names them all)`);
const chosen = names.length > 0 ? [...new Set(names)] : Object.keys(benchmarks).filter((name) => !benchmarks[name].byNameOnly);
if (passed.length > 0 && chosen.length !== 1) fail(`the arguments after -- go to one benchmark; name one (chosen: ${chosen.join(', ')})`);

const needs = new Set(chosen.map((name) => benchmarks[name].needs));
if (needs.has('wrk')) run('installing the system packages', 'bash', ['scripts/system-packages.sh', 'bench']);
else if (needs.has('system')) run('installing the system packages', 'bash', ['scripts/system-packages.sh']);
if (!options.has('--no-build') && chosen.some((name) => benchmarks[name].build !== false)) run('npm run build', 'npm', ['run', 'build']);

for (const name of chosen) {
  const { file } = benchmarks[name];
  console.log(`\n== ${name} (bench/${file}${passed.length > 0 ? ` ${passed.join(' ')}` : ''})`);
  run(`benchmark ${name}`, process.execPath, [`bench/${file}`, ...passed]);
}
