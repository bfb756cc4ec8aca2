import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { once } from 'node:events';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, repoRoot } from '../helpers/run-process.js';
import { childPids, eventually, processState, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('http-model.mjs');
const signals = modelSignals();
afterAll(() => signals.remove());
const servers: RunningServer[] = [];
// Processes a failed test would leave behind.
const strays: number[] = [];
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  for (const pid of strays.splice(0)) {
    try {
      // Only if the pid is still ours (not reused since).
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(model)) process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

// A process's children, theirs, and so on.
function descendants(pid: number): number[] {
  const pids = childPids(pid);
  for (let index = 0; index < pids.length; index++) pids.push(...childPids(pids[index]!));
  return pids;
}

// Whether something accepts connections on the loopback port.
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the service ends with the process that started it (Linux, PR_SET_PDEATHSIG)', () => {
  // The starters: a process that spawns the supervisor itself, and `npm start`, which runs it through `sh -c`.
  const starters = {
    'a process that spawns it': (env: NodeJS.ProcessEnv = {}) =>
      spawn(
        process.execPath,
        [
          '-e',
          `require('node:child_process').spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit' }); setInterval(() => {}, 1e6);`,
          supervisorBin,
          model,
        ],
        {
          cwd: repoRoot,
          env: { ...process.env, MODE: 'http', PORT: '0', HOST: '127.0.0.1', ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      ),
    '`npm start` (npm runs the script through sh -c, which stays between npm and the supervisor)': () => {
      const folder = mkdtempSync(join(tmpdir(), 'parent-death-'));
      folders.push(folder);
      const start = `node ${JSON.stringify(supervisorBin)} ${JSON.stringify(model)}`;
      writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'starter', version: '1.0.0', private: true, scripts: { start } }));
      return spawn('npm', ['start', '--silent'], {
        cwd: folder,
        env: { ...process.env, MODE: 'http', PORT: '0', HOST: '127.0.0.1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    },
  };

  // Starts the service through `parent`; resolves with its port once it listens.
  async function served(parent: ChildProcess) {
    const output = { stderr: '' };
    parent.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
    // The pipe closes once every process holding it (the supervisor and its worker) has ended.
    const stderrClosed = once(parent.stderr!, 'close');
    const port = await new Promise<number>((resolve, reject) => {
      const onData = () => {
        const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output.stderr);
        if (match) {
          parent.stderr!.off('data', onData);
          resolve(Number(match[1]));
        }
      };
      parent.stderr!.on('data', onData);
      void stderrClosed.then(() => reject(new Error(`the service did not start:\n${output.stderr}`)));
    });
    strays.push(...descendants(parent.pid!));
    return { port, output, stderrClosed };
  }

  async function predict(port: number, note: string): Promise<number> {
    const answer = await request(`http://127.0.0.1:${port}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { note } }),
    });
    await answer.body.dump();
    return answer.statusCode;
  }

  test.for(Object.keys(starters))('SIGKILL to %s: the service drains and ends, its worker too', async (starter) => {
    const parent = starters[starter as keyof typeof starters]();
    const { port, output, stderrClosed } = await served(parent);
    expect(await predict(port, 'before')).toBe(200);

    parent.kill('SIGKILL');
    await stderrClosed;
    expect(output.stderr).toContain('SIGTERM: draining in-flight and queued work, then exiting');
    expect(await listening(port)).toBe(false);
  });

  test('EXIT_WITH_PARENT=false: a supervisor started on purpose in the background outlives what started it', async () => {
    const parent = starters['a process that spawns it']({ EXIT_WITH_PARENT: 'false' });
    const { port, output, stderrClosed } = await served(parent);
    const [supervisor] = childPids(parent.pid!);
    expect(supervisor).toBeGreaterThan(0);

    parent.kill('SIGKILL');
    await once(parent, 'exit');
    // The kernel sends the parent-death signal as it hands the orphan to its new parent.
    expect(await eventually(() => processState(supervisor!)?.parent !== parent.pid, 10_000)).toBe(true);
    expect(await predict(port, 'after')).toBe(200);
    expect(output.stderr).not.toContain('SIGTERM');

    process.kill(supervisor!, 'SIGTERM');
    await stderrClosed;
    expect(await listening(port)).toBe(false);
  });

  test('EXIT_WITH_PARENT=maybe: refused at start, naming the variable', async () => {
    const supervisor = spawn(process.execPath, [supervisorBin, model], {
      cwd: repoRoot,
      env: { ...process.env, MODE: 'http', PORT: '0', HOST: '127.0.0.1', EXIT_WITH_PARENT: 'maybe' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    supervisor.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const [code] = await once(supervisor, 'close');
    expect(stderr).toContain('EXIT_WITH_PARENT="maybe" is not true or false');
    expect(code).toBe(3);
  });

  test('the supervisor killed with SIGKILL: its worker, busy in a loop that never sees the IPC channel close, ends too', async () => {
    const server = await startServer(supervisorBin, signals.env, [model]);
    servers.push(server);
    const [worker] = childPids(server.pid);
    expect(worker).toBeGreaterThan(0);
    strays.push(worker!);
    // The supervisor's stderr closes when it has ended; the worker's parent-death signal is
    // delivered by the kernel after that, so the worker's end is awaited on its own.
    const stderrClosed = once(server.child.stderr!, 'close');
    const spinning = request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { action: 'spin' } }),
    }).catch((error: unknown) => error);
    expect(await signals.started('spin')).toBe(true);
    process.kill(server.pid, 'SIGKILL');
    await stderrClosed;
    // Ended (a zombie until init reaps it); a worker the signal missed spins on, and this fails.
    const ended = () => /^(gone|Z)$/.test(processState(worker!)?.state ?? 'gone');
    expect(await eventually(ended, 10_000), `worker ${worker} is ${processState(worker!)?.state}`).toBe(true);
    await spinning;
  });
});
