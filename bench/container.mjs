// The example image's figures, in one run: its size (beside the base image's), the cold start from
// `podman run` to /health answering 200 (beside `podman run BASE node -e 0`, the container's own
// start), and the self-test's wall time inside the container (beside the same self-test on the
// host). Medians of RUNS runs, interleaved so that the machine's noise hits both sides alike.
// Builds the images first (docker/local-base-image.sh for the base unless BASE_IMAGE is given).
// Usage: npm run bench -- container [-- runs]
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 7);
const repo = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, CONTAINERS_CONF: `${repo}test/container/containers.conf` };
const image = 'localhost/ai-integration-example:bench';
const baseImage = process.env.BASE_IMAGE ?? 'localhost/ai-integration-node-local:20';
const podman = (args, options = {}) => execFileSync('podman', ['--runtime', 'runc', ...args], { env, cwd: repo, encoding: 'utf8', ...options }).trim();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const megabytes = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (!process.env.BASE_IMAGE) execFileSync(`${repo}docker/local-base-image.sh`, [baseImage], { env, stdio: 'inherit' });
execFileSync(`${repo}docker/example.sh`, ['build'], {
  env: { ...env, ENGINE: 'podman', IMAGE: image, BASE_IMAGE: baseImage },
  stdio: ['ignore', 'ignore', 'inherit'],
});

const sizeOf = (name) => Number(podman(['image', 'inspect', '--format', '{{.Size}}', name]));

function timed(command, args, options) {
  const started = performance.now();
  const outcome = spawnSync(command, args, { env, cwd: repo, stdio: 'ignore', ...options });
  if (outcome.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${outcome.status}`);
  return performance.now() - started;
}

async function coldStart(port) {
  const started = performance.now();
  const name = podman(['run', '-d', '--rm', '--no-healthcheck', '-p', `127.0.0.1:${port}:5000`, '-e', 'MODE=http', image]);
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/health`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) break;
    await sleep(10);
  }
  const elapsed = performance.now() - started;
  podman(['rm', '-f', '-t', '0', name]);
  return elapsed;
}

const figures = { cold: [], bareStart: [], selfTest: [], hostSelfTest: [] };
for (let run = 0; run < runs; run++) {
  figures.cold.push(await coldStart(5600 + run));
  figures.bareStart.push(timed('podman', ['--runtime', 'runc', 'run', '--rm', baseImage, 'node', '-e', '0']));
  figures.selfTest.push(timed('podman', ['--runtime', 'runc', 'run', '--rm', '--no-healthcheck', '-e', 'MODE=test_model_integration', image]));
  figures.hostSelfTest.push(timed(process.execPath, [`${repo}dist/cli.js`, 'dist/shims/image-stats.js'], { env: { ...env, MODE: 'test_model_integration' } }));
}

const ms = (values) => `${median(values).toFixed(0)} ms`;
const [imageBytes, baseBytes] = [sizeOf(image), sizeOf(baseImage)];
console.log(`image size:                ${megabytes(imageBytes)} (base image ${megabytes(baseBytes)}, so ${megabytes(imageBytes - baseBytes)} added)`);
console.log(`cold start, run → ready:   ${ms(figures.cold)}   (podman run BASE node -e 0: ${ms(figures.bareStart)})`);
console.log(`self-test in the container: ${ms(figures.selfTest)}   (the same, supervised, on the host: ${ms(figures.hostSelfTest)})`);
console.log(`medians of ${runs} runs`);
