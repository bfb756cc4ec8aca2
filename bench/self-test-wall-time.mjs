// Wall time of `MODE=test_model_integration node dist/shims/image-stats.js` (the whole process),
// beside two baselines measured in the same run: bare `node` start-up, and a bare script doing
// the same image work without the framework. Usage: npm run bench -- self-test-wall-time [-- runs]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 15);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

const subjects = [
  { name: 'node -e 0 (start-up only)', args: ['-e', '0'], env: {} },
  { name: 'bare sharp script, same work', args: [file('./bare-image-stats.mjs')], env: {} },
  { name: 'example shim, test_model_integration', args: [file('../dist/shims/image-stats.js')], env: { MODE: 'test_model_integration' } },
];

function timeOnce(subject) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, subject.args, { env: { ...process.env, ...subject.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const milliseconds = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${subject.name} exited ${result.status}: ${result.stderr}`);
  return milliseconds;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

// Interleave the subjects so that machine noise hits all of them alike.
const samples = subjects.map(() => []);
for (const subject of subjects) timeOnce(subject); // warm the file cache
for (let run = 0; run < runs; run++) {
  for (const [index, subject] of subjects.entries()) samples[index].push(timeOnce(subject));
}

const medians = samples.map(median);
const bare = medians[1];
console.log(`whole-process wall time, median of ${runs} runs each (interleaved)`);
for (const [index, subject] of subjects.entries()) {
  const ratio = (medians[index] / bare).toFixed(2);
  console.log(`  ${subject.name.padEnd(40)} ${medians[index].toFixed(0).padStart(6)} ms   ${ratio}x the bare script`);
}
console.log(`  framework overhead over the bare script: ${(medians[2] - bare).toFixed(0)} ms`);
