// MODE=kserve over gRPC: ModelInfer with raw contents (the 5.5 KB JPEG as a BYTES tensor, Triton's
// convention), beside REST V2 with binary tensor data on the same server and beside a bare
// @grpc/grpc-js server of the same .proto answering the same response, measured in the same run.
// The model is bench/constant-model.mjs (no work), run directly. The load comes from a process of
// its own (bench/grpc-load.mjs: a grpc-js client on one channel, or undici for REST, a connection
// per caller), 10 concurrent callers; the three take turns over rounds, the order turning too, so
// machine noise hits all alike; the figures are medians. Beside req/s, the server process's CPU
// per call (/proc: user + system time over the calls answered), which a busy machine, or a load
// generator that is itself the bottleneck, moves much less than req/s.
// Goals (issue 30): gRPC at least REST binary's req/s, and at least 70% of the bare gRPC server's.
// Usage: npm run bench -- grpc [-- seconds rounds callers]
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { benchJpeg } from './bench-jpeg.mjs';

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 5);
const callers = Number(process.argv[4] ?? 10);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Starts `node script` and resolves with what its "listening on" lines say, once `wanted` of them have come. */
function start(script, env, wanted) {
  const child = spawn(process.execPath, [script], { env: { ...process.env, HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const found = [...stderr.matchAll(/listening on ((?:http|grpc):\/\/[\d.]+:\d+)/g)].map((match) => match[1]);
      if (found.length === wanted)
        resolve({ child, http: found.find((url) => url.startsWith('http')), grpc: found.find((url) => url.startsWith('grpc'))?.slice(7) });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}: ${stderr}`)));
  });
}

const kserve = await start(file('./constant-model.mjs'), { MODE: 'kserve', PORT: '0', GRPC_PORT: String(await freePort()) }, 2);

// Our answer, once, which the bare server then gives to every call.
const prefixed = Buffer.concat([Buffer.alloc(4), benchJpeg]);
prefixed.writeUInt32LE(benchJpeg.length);
const { inference } = loadPackageDefinition(loadSync(file('../modes/kserve/open_inference_grpc.proto'), { keepCase: true, longs: String, defaults: false }));
const client = new inference.GRPCInferenceService(kserve.grpc, credentials.createInsecure());
const answer = await new Promise((resolve, reject) =>
  client.ModelInfer(
    { model_name: 'constant-model', inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }], raw_input_contents: [prefixed] },
    (error, response) => (error ? reject(error) : resolve(response)),
  ),
);
client.close();
const bare = await start(
  file('./bare-grpc-server.mjs'),
  { ANSWER: JSON.stringify({ ...answer, raw_output_contents: answer.raw_output_contents.map((bytes) => bytes.toString('base64')) }) },
  1,
);

// CPU milliseconds a process has used so far (utime + stime, at 100 ticks a second).
const cpuMs = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

const targets = [
  { name: 'MODE=kserve gRPC ModelInfer (raw)', args: ['grpc', kserve.grpc], pid: kserve.child.pid },
  { name: 'MODE=kserve REST V2 infer (binary)', args: ['rest', `${kserve.http}/v2/models/constant-model/infer`], pid: kserve.child.pid },
  { name: 'bare @grpc/grpc-js, the same answer', args: ['grpc', bare.grpc], pid: bare.child.pid },
];
const figures = new Map(targets.map((target) => [target.name, { rps: [], cpu: [] }]));
for (let round = 0; round < rounds; round++) {
  for (let turn = 0; turn < targets.length; turn++) {
    const target = targets[(round + turn) % targets.length];
    const before = cpuMs(target.pid);
    const outcome = JSON.parse(
      execFileSync(process.execPath, [file('./grpc-load.mjs'), ...target.args, String(seconds), String(callers)], { encoding: 'utf8' }),
    );
    if (outcome.errors > 0) throw new Error(`${target.name}: ${outcome.errors} failed calls`);
    // The CPU time includes the warm-up second: divided by the calls of the whole run, at its rate.
    const calls = outcome.rps * (outcome.seconds + 1);
    figures.get(target.name).rps.push(outcome.rps);
    figures.get(target.name).cpu.push((cpuMs(target.pid) - before) / calls);
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const [grpc, rest, bareFigure] = targets.map((target) => median(figures.get(target.name).rps));
const [grpcCpu, restCpu, bareCpu] = targets.map((target) => median(figures.get(target.name).cpu));
console.log(
  `gRPC beside REST binary and a bare grpc-js server: ${callers} callers from another process, ${seconds} s x ${rounds} rounds, ${benchJpeg.length}-byte JPEG, no-op model, run directly (node ${process.version})`,
);
for (const [name, { rps, cpu }] of figures) {
  const runs = rps.map((value) => value.toFixed(0)).join(', ');
  console.log(`  ${name.padEnd(38)} ${median(rps).toFixed(0).padStart(6)} req/s (median; runs ${runs}), server CPU ${median(cpu).toFixed(2)} ms per call`);
}
const percent = (value) => `${(value * 100).toFixed(0)}%`;
console.log(`  gRPC's req/s is ${percent(grpc / rest)} of REST binary's (goal: at least 100%), its CPU per call ${percent(grpcCpu / restCpu)} of REST's`);
console.log(
  `  gRPC's req/s is ${percent(grpc / bareFigure)} of the bare server's (goal: at least 70%), its CPU per call ${percent(grpcCpu / bareCpu)} of the bare server's`,
);
for (const server of [kserve, bare]) server.child.kill('SIGTERM');

// Start-up: from spawn to REST's "listening" and to gRPC's, with gRPC on and off (GRPC_PORT=0),
// taking turns; gRPC (grpc-js, the .proto, health, reflection) loads once the HTTP port listens.
const startups = { off: [], restOn: [], grpcOn: [] };
for (let round = 0; round < rounds * 2; round++) {
  for (const on of round % 2 === 0 ? [false, true] : [true, false]) {
    const started = performance.now();
    const seen = {};
    const child = spawn(process.execPath, [file('./constant-model.mjs')], {
      env: { ...process.env, MODE: 'kserve', PORT: '0', HOST: '127.0.0.1', GRPC_PORT: on ? String(await freePort()) : '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise((resolve) => {
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (!seen.http && stderr.includes('listening on http')) seen.http = performance.now() - started;
        if (!seen.grpc && stderr.includes('listening on grpc')) seen.grpc = performance.now() - started;
        if (seen.http && (!on || seen.grpc)) resolve();
      });
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    if (on) {
      startups.restOn.push(seen.http);
      startups.grpcOn.push(seen.grpc);
    } else startups.off.push(seen.http);
  }
}
const ms = (values) => `${median(values).toFixed(0)} ms (median of ${values.length})`;
console.log('start-up of MODE=kserve, spawn to "listening", run directly:');
console.log(`  GRPC_PORT=0: REST listening after ${ms(startups.off)}`);
console.log(`  gRPC on:     REST listening after ${ms(startups.restOn)}, gRPC listening after ${ms(startups.grpcOn)}`);
