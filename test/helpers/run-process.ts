import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const exampleShim = fileURLToPath(new URL('../../dist/shims/image-stats.js', import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export interface ProcessOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  mode?: string;
  args?: string[];
  stdin?: Buffer | string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** A hang fails the test instead of stalling the suite. */
  timeoutMs?: number;
}

/** Runs `command args` to the end with stdin piped in, and collects everything it printed. */
export function runProcess(
  command: string,
  args: string[],
  options: { env: Record<string, string>; stdin?: Buffer | string; timeoutMs?: number },
): Promise<ProcessOutcome> {
  const child = spawn(command, args, { env: options.env, cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {}); // the process may exit before reading everything; that is its answer
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

/** Spawns `node script` as a user would, with MODE and stdin, and collects everything it printed. */
export function runScript(script: string, options: RunOptions = {}): Promise<ProcessOutcome> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...options.env };
  delete env.MODE;
  if (options.mode !== undefined) env.MODE = options.mode;
  return runProcess(process.execPath, [...(options.nodeArgs ?? []), script, ...(options.args ?? [])], {
    env,
    stdin: options.stdin,
    timeoutMs: options.timeoutMs,
  });
}

/** stdout parsed as JSON; fails loudly with what was printed when it is not. */
export function stdoutJson(outcome: ProcessOutcome): any {
  try {
    return JSON.parse(outcome.stdout.toString('utf8'));
  } catch {
    throw new Error(`stdout is not JSON.\nstdout: ${outcome.stdout.toString('utf8')}\nstderr: ${outcome.stderr}`);
  }
}

/** A real pickle written by this machine's python3: `expression` is Python source for the value. */
export function pythonPickle(expression: string, protocol = 4): Buffer {
  return execFileSync('python3', ['-c', `import pickle, sys, collections; pickle.dump(${expression}, sys.stdout.buffer, protocol=${protocol})`]);
}
