import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

/** The built supervisor, as `ai-integration` runs it. */
export const supervisorBin = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** The pids of a process's children (the supervisor's model worker). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The parent pid and state letter of a process, from /proc; undefined once it is gone (reaped). */
export function processState(pid: number): { parent: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { parent: Number(parent), state: state! };
  } catch {
    return undefined;
  }
}

/** Polls `condition` every 50 ms until it holds or `limitMs` passes; returns whether it held. */
export async function eventually(condition: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  for (const deadline = Date.now() + limitMs; Date.now() < deadline; ) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

/**
 * Whether `count` model workers report ready in a server's /metrics within `limitMs`. A test that
 * needs every worker waits for this first: the server answers once one worker is ready, and a
 * request that comes while another still loads goes to the ready one.
 */
export const workersReady = (url: string, count: number, limitMs = 30_000) =>
  eventually(
    async () => ((await (await request(`${url}/metrics`)).body.text()).match(/^model_worker_ready\{worker="\d+"\} 1$/gm) ?? []).length === count,
    limitMs,
  );

/** SIGKILL to a process and everything under it (a supervisor and its model workers), as `kill -9` of its process group; resolves once all are gone. */
export async function killProcessTree(server: { pid: number; exited: Promise<unknown> }): Promise<void> {
  const pids = [server.pid];
  for (let index = 0; index < pids.length; index++) pids.push(...childPids(pids[index]!));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await server.exited;
  await eventually(() => pids.every((pid) => processState(pid) === undefined || processState(pid)!.state === 'Z'), 5000);
}
