// What the wrk benchmarks share: starting a server on a free port (it prints "listening on URL"),
// writing wrk's request script, and running wrk with its figures parsed and its errors refused.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Servers a benchmark started: a benchmark that fails half-way leaves none of them running (a
// supervisor's workers exit when their supervisor's channel closes).
const started = new Set();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** Starts `node ...args` with MODE, PORT 0, HOST 127.0.0.1 and GRPC_PORT 0 (MODE=kserve's REST only) unless `env` says; resolves once it listens. */
export function startServer(args, env = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, MODE: 'http', PORT: '0', HOST: '127.0.0.1', GRPC_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return new Promise((resolve, reject) => {
    let head = '';
    child.stderr.on('data', (chunk) => {
      // Read and dropped once listening, as a container runtime's log driver does.
      if (head === undefined) return;
      head += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(head);
      if (match) {
        head = undefined;
        resolve({
          url: match[1].replace('0.0.0.0', '127.0.0.1'),
          child,
          stop: () =>
            new Promise((done) => {
              child.once('exit', done);
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.on('exit', (code) => head !== undefined && reject(new Error(`exited ${code}: ${head}`)));
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
let scripts = 0;

/** A wrk script that sends `body` (a string or Buffer) with `headers`, POST by default. */
export function wrkScript({ method = 'POST', headers = {}, body }) {
  const index = ++scripts;
  const lines = [
    `wrk.method = ${JSON.stringify(method)}`,
    ...Object.entries(headers).map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`),
  ];
  if (body !== undefined) {
    const bodyFile = join(scratch, `body-${index}`);
    writeFileSync(bodyFile, body);
    lines.push(`local f = io.open(${JSON.stringify(bodyFile)}, "rb")`, 'wrk.body = f:read("*a")', 'f:close()');
  }
  const script = join(scratch, `script-${index}.lua`);
  writeFileSync(script, `${lines.join('\n')}\n`);
  return script;
}

/** Runs wrk against `url` and returns req/s and latency percentiles; any non-2xx answer or socket error throws. */
export function wrk(url, script, { connections = 10, seconds = 8 } = {}) {
  const output = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(output)?.[1];
  if (non2xx > 0 || errors) throw new Error(`${url}: ${non2xx} non-2xx answers, socket errors ${errors ?? 'none'}`);
  const latency = (percentile) => new RegExp(`\\s${percentile}%\\s+(\\S+)`).exec(output)?.[1] ?? '?';
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]), p50: latency(50), p99: latency(99) };
}

/** wrk's latency text ("1.23ms", "850.00us", "1.02s") in milliseconds. */
export function milliseconds(text) {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!match) return Number.NaN;
  return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2]];
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * CPU seconds (user + system) a process and its children (a supervisor's workers) have used so
 * far, from /proc: read before and after a wrk run, it gives the server's CPU per request, a figure
 * that does not depend on how the load generator shares the machine's cores with it.
 */
export function cpuSeconds(pid) {
  const { own, children } = cpuSecondsApart(pid);
  return own + children;
}

/** CPU seconds as `cpuSeconds` counts them, the process's own apart from its children's (a supervisor's and its workers'). */
export function cpuSecondsApart(pid) {
  const ticks = (id) => {
    const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  let children = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // no children
  }
  const clockTicks = 100; // USER_HZ: 100 on Linux
  return { own: ticks(pid) / clockTicks, children: children.reduce((total, id) => total + ticks(id), 0) / clockTicks };
}
