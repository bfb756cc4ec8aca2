// A 10 MB image output: the answer with OUTPUT_UPLOAD_URL (the file PUT to a store in its own
// process on loopback, the answer its URL) beside the answer as a data URL inside the JSON (the
// default), on the same model run directly (node model.mjs, MODE=http). Each round sends
// `requests` POST /predict from `concurrency` clients to one server, then the other; the figures
// are the median and p90 latency per request over all rounds, the server's CPU per request (from
// /proc), and its peak memory: the RSS high-water mark (VmHWM in /proc/<pid>/status) after the
// rounds, beside its RSS when it had loaded the model and served one request.
// Usage: npm run bench -- output-upload [-- requests rounds concurrency megabytes]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { cpuSeconds, median, startServer } from './wrk.mjs';

const requests = Number(process.argv[2] ?? 20);
const rounds = Number(process.argv[3] ?? 3);
const concurrency = Number(process.argv[4] ?? 4);
const megabytes = Number(process.argv[5] ?? 10);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

const memory = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
};

async function predict(url) {
  const started = performance.now();
  const response = await request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":{}}' });
  const body = Buffer.from(await response.body.arrayBuffer());
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${body.toString('utf8', 0, 300)}`);
  return { ms: performance.now() - started, bytes: body.length, output: JSON.parse(body).output };
}

const store = await startServer([file('./bare-upload-store.mjs')]);
const model = file('./image-output-model.mjs');
const env = { IMAGE_MB: String(megabytes), ACCESS_LOG: 'false' };
const arms = {
  upload: await startServer([model], { ...env, OUTPUT_UPLOAD_URL: `${store.url}/outputs`, URL_INPUTS_ALLOW_HOSTS: new URL(store.url).host }),
  'data URL': await startServer([model], env),
};
const figures = {};
for (const [name, server] of Object.entries(arms)) {
  const first = await predict(server.url);
  const expected = name === 'upload' ? /^http:\/\/store\.example\/outputs\// : /^data:image\/png;base64,/;
  if (!expected.test(first.output)) throw new Error(`${name}: unexpected output ${String(first.output).slice(0, 80)}`);
  figures[name] = { latencies: [], cpu: 0, answerBytes: first.bytes, loaded: memory(server.child.pid).rssMb };
}

for (let round = 0; round < rounds; round++) {
  for (const [name, server] of Object.entries(arms)) {
    const cpuBefore = cpuSeconds(server.child.pid);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < requests) figures[name].latencies.push((await predict(server.url)).ms);
      }),
    );
    figures[name].cpu += cpuSeconds(server.child.pid) - cpuBefore;
  }
}

const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `${megabytes} MB PNG output, POST /predict, ${rounds} rounds x ${requests} requests, ${concurrency} clients, servers alternating; load average ${load}`,
);
console.log('| answer | answer bytes | median ms | p90 ms | server CPU ms/req | RSS after 1 request MB | peak RSS (VmHWM) MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, server] of Object.entries(arms)) {
  const { latencies, cpu, answerBytes, loaded } = figures[name];
  const sorted = [...latencies].sort((a, b) => a - b);
  const p90 = sorted[Math.floor(sorted.length * 0.9)];
  const { hwmMb } = memory(server.child.pid);
  console.log(
    `| ${name} | ${answerBytes} | ${median(latencies).toFixed(1)} | ${p90.toFixed(1)} | ${((cpu * 1000) / latencies.length).toFixed(1)} | ${loaded.toFixed(0)} | ${hwmMb.toFixed(0)} |`,
  );
}
await Promise.all([...Object.values(arms), store].map((server) => server.stop()));
