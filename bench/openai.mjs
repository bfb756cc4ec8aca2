// MODE=openai's cost. Streaming: a chat model that yields 1,000 tokens with no work
// (bench/token-model.mjs), streamed to one client and to 32 at once, run directly and under the
// supervisor, beside a bare node:http server writing the same server-sent events from an async
// generator (bench/bare-sse-server.mjs): tokens per second and time to the first token (p50). The
// load generator is a process of its own (bench/sse-client.mjs). Embeddings: requests per second
// of a no-work embedding model (bench/noop-embedding-model.mjs) through POST /v1/embeddings
// against the same model through MODE=http's POST /predict, measured with wrk. Servers alternate
// over rounds so that the machine's noise hits all alike. Every answer is checked before the load.
// Usage: npm run bench -- openai [-- rounds requests seconds]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './wrk.mjs';

const rounds = Number(process.argv[2] ?? 3);
const requests = Number(process.argv[3] ?? 20);
const seconds = Number(process.argv[4] ?? 8);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const supervisor = file('../dist/cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'bench-openai-'));

// The servers: node:http's bare one and the modes, listening on a free port, their access log off.
const start = (args, env) => startServer(args, { ACCESS_LOG: 'false', ...env });

// The CPU time a server (and its model worker, under the supervisor) spent, in ms: on a shared
// machine, what each token costs is steadier than how many pass in a second.
function cpuMs(pid) {
  const ticks = (id) => {
    try {
      const fields = readFileSync(`/proc/${id}/stat`, 'utf8');
      const [utime, stime] = fields
        .slice(fields.lastIndexOf(')') + 2)
        .split(' ')
        .slice(11, 13)
        .map(Number);
      return utime + stime;
    } catch {
      return 0;
    }
  };
  const children = execFileSync('sh', ['-c', `pgrep -P ${pid} || true`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number);
  return [pid, ...children].reduce((sum, id) => sum + ticks(id), 0) * 10;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};

function stream({ url, child }, clients, perClient) {
  const before = cpuMs(child.pid);
  const output = execFileSync(process.execPath, [file('./sse-client.mjs'), `${url}/v1/chat/completions`, String(clients), String(perClient)], {
    encoding: 'utf8',
  });
  const { wallMs, firsts, tokens } = JSON.parse(output);
  if (tokens !== clients * perClient * 1000) throw new Error(`${url}: ${tokens} tokens, expected ${clients * perClient * 1000}`);
  return { tokensPerSecond: tokens / (wallMs / 1000), firstMs: median(firsts), cpuMicrosPerToken: ((cpuMs(child.pid) - before) * 1000) / tokens };
}

// Streaming.
const token = file('./token-model.mjs');
const streamers = {
  'bare node:http SSE': await start([file('./bare-sse-server.mjs')], {}),
  'MODE=openai direct': await start([token], { MODE: 'openai' }),
  'MODE=openai supervised': await start([supervisor, token], { MODE: 'openai' }),
};
for (const [name, server] of Object.entries(streamers)) stream(server, 1, 1) && process.stderr.write(`checked ${name}\n`);
const streamed = Object.fromEntries(Object.keys(streamers).map((name) => [name, { one: [], many: [] }]));
for (let round = 0; round < rounds; round++) {
  for (const [name, server] of Object.entries(streamers)) {
    streamed[name].one.push(stream(server, 1, requests));
    streamed[name].many.push(stream(server, 32, Math.max(1, Math.round(requests / 8))));
  }
}
for (const { child } of Object.values(streamers)) child.kill('SIGTERM');

// Embeddings.
const embedding = file('./noop-embedding-model.mjs');
const text = 'the cat sat on the mat';
const embedders = {
  'native POST /predict direct': { server: await start([embedding], { MODE: 'http' }), path: '/predict', body: { inputs: { input: text } } },
  'POST /v1/embeddings direct': {
    server: await start([embedding], { MODE: 'openai' }),
    path: '/v1/embeddings',
    body: { model: 'noop-embeddings', input: text, encoding_format: 'float' },
  },
  'native POST /predict supervised': { server: await start([supervisor, embedding], { MODE: 'http' }), path: '/predict', body: { inputs: { input: text } } },
  'POST /v1/embeddings supervised': {
    server: await start([supervisor, embedding], { MODE: 'openai' }),
    path: '/v1/embeddings',
    body: { model: 'noop-embeddings', input: text, encoding_format: 'float' },
  },
};
for (const [index, [name, scenario]] of Object.entries(embedders).entries()) {
  const answer = await fetch(`${scenario.server.url}${scenario.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(scenario.body),
  });
  if (answer.status !== 200) throw new Error(`${name}: ${answer.status} ${await answer.text()}`);
  const bodyFile = join(scratch, `body-${index}`);
  writeFileSync(bodyFile, JSON.stringify(scenario.body));
  scenario.script = join(scratch, `script-${index}.lua`);
  writeFileSync(
    scenario.script,
    [
      'wrk.method = "POST"',
      'wrk.headers["content-type"] = "application/json"',
      `local f = io.open(${JSON.stringify(bodyFile)}, "rb")`,
      'wrk.body = f:read("*a")',
      'f:close()',
      '',
    ].join('\n'),
  );
  scenario.rps = [];
  scenario.cpu = [];
}
for (let round = 0; round < rounds; round++) {
  for (const [name, scenario] of Object.entries(embedders)) {
    const before = cpuMs(scenario.server.child.pid);
    const output = execFileSync('wrk', ['-t1', '-c10', `-d${seconds}s`, '-s', scenario.script, `${scenario.server.url}${scenario.path}`], { encoding: 'utf8' });
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
    if (non2xx > 0) throw new Error(`${name}: ${non2xx} non-2xx answers`);
    scenario.rps.push(Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]));
    scenario.cpu.push(((cpuMs(scenario.server.child.pid) - before) * 1000) / Number(/(\d+) requests in/.exec(output)?.[1]));
  }
}
for (const { server } of Object.values(embedders)) server.child.kill('SIGTERM');

const bare = streamed['bare node:http SSE'];
const bareOne = median(bare.one.map((run) => run.tokensPerSecond));
const bareMany = median(bare.many.map((run) => run.tokensPerSecond));
const bareFirst = median(bare.one.map((run) => run.firstMs));
console.log(
  `\nStreaming 1,000 tokens (median of ${rounds} rounds; 1 client: ${requests} requests in a row; 32 clients: ${Math.max(1, Math.round(requests / 8))} each)\n`,
);
console.log(
  '| server | tokens/s, 1 client | of bare | first token p50, 1 client | tokens/s, 32 clients | of bare | first token p50, 32 clients | server CPU per token, 32 clients |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const [name, { one, many }] of Object.entries(streamed)) {
  const oneRate = median(one.map((run) => run.tokensPerSecond));
  const manyRate = median(many.map((run) => run.tokensPerSecond));
  const first = median(one.map((run) => run.firstMs));
  console.log(
    `| ${name} | ${Math.round(oneRate)} | ${Math.round((oneRate / bareOne) * 100)}% | ${first.toFixed(2)} ms (${first - bareFirst >= 0 ? '+' : ''}${(first - bareFirst).toFixed(2)}) | ${Math.round(manyRate)} | ${Math.round((manyRate / bareMany) * 100)}% | ${median(many.map((run) => run.firstMs)).toFixed(2)} ms | ${median(many.map((run) => run.cpuMicrosPerToken)).toFixed(1)} µs |`,
  );
}
console.log(`\nEmbeddings of one text, req/s (wrk, 10 connections, ${seconds} s, median of ${rounds} rounds)\n`);
console.log('| route | req/s | against the native route | server CPU per request |');
console.log('|---|---|---|---|');
for (const [name, scenario] of Object.entries(embedders)) {
  const native = embedders[name.replace('POST /v1/embeddings', 'native POST /predict')];
  console.log(
    `| ${name} | ${Math.round(median(scenario.rps))} | ${Math.round((median(scenario.rps) / median(native.rps)) * 100)}% | ${Math.round(median(scenario.cpu))} µs |`,
  );
}
