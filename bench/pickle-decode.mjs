// Pickle decoding, side by side in one run with CPython's C unpickler (pickle.loads) on the same
// files: one 50 MB bytes value, and a dict of 100,000 small entries. Median of several decodes
// each, the file already in memory on both sides. Usage: npm run bench -- pickle [-- runs]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPickle } from '../dist/index.js';

const runs = Number(process.argv[2] ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'pickle-bench-'));

const python = (source) => execFileSync('python3', ['-c', source], { maxBuffer: 1 << 20 }).toString();
python(`
import os, pickle
with open(${JSON.stringify(join(dir, 'bulk.pkl'))}, 'wb') as f:
    pickle.dump({'image': os.urandom(50 * 1024 * 1024)}, f)
small = {}
for i in range(100000):
    small['key%d' % i] = i if i % 3 == 0 else ('v%d' % i if i % 3 == 1 else i * 0.5)
with open(${JSON.stringify(join(dir, 'small.pkl'))}, 'wb') as f:
    pickle.dump(small, f)
`);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

// `copy` also copies every bytes value out of the input, which is what CPython does: readPickle
// itself returns views of the input, so the bulk figure is shown both ways.
function timeNode(file, copy = false) {
  const data = readFileSync(file);
  readPickle(data); // warm-up: let the JIT see the opcodes
  const samples = [];
  for (let run = 0; run < runs; run++) {
    const started = process.hrtime.bigint();
    const value = readPickle(data);
    if (copy) for (const item of Object.values(value)) if (Buffer.isBuffer(item)) Buffer.from(item);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(samples);
}

function timePython(file) {
  return Number(
    python(`
import pickle, statistics, time
data = open(${JSON.stringify(file)}, 'rb').read()
pickle.loads(data)
samples = []
for _ in range(${runs}):
    started = time.perf_counter()
    pickle.loads(data)
    samples.append((time.perf_counter() - started) * 1000)
print(statistics.median(samples))
`),
  );
}

console.log(`pickle decode, median of ${runs} runs each, file in memory (node ${process.version})`);
for (const [label, file] of [
  ['50 MB bytes value', 'bulk.pkl'],
  ['dict of 100,000 small entries', 'small.pkl'],
]) {
  const path = join(dir, file);
  const size = (readFileSync(path).length / 1024 / 1024).toFixed(1);
  const nodeMs = timeNode(path);
  const pythonMs = timePython(path);
  console.log(
    `  ${label.padEnd(32)} (${size} MB)  readPickle ${nodeMs.toFixed(2).padStart(8)} ms   CPython pickle.loads ${pythonMs.toFixed(2).padStart(8)} ms   ratio ${(nodeMs / pythonMs).toFixed(2)}x`,
  );
  if (file === 'bulk.pkl') {
    const copiedMs = timeNode(path, true);
    console.log(
      `  ${'  the same, bytes copied out'.padEnd(32)}           readPickle ${copiedMs.toFixed(2).padStart(8)} ms   CPython pickle.loads ${pythonMs.toFixed(2).padStart(8)} ms   ratio ${(copiedMs / pythonMs).toFixed(2)}x`,
    );
  }
}
