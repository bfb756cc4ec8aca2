import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './run-process.js';

/** podman's environment here: containers.conf without default ulimits (see that file). */
export const podmanEnvironment = { ...(process.env as Record<string, string>), CONTAINERS_CONF: fileURLToPath(new URL('../container/containers.conf', import.meta.url)) };

export interface CommandOutcome {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command to the end, with stdin, and collects what it printed. */
export function runCommand(command: string, args: string[], options: { stdin?: Buffer | string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CommandOutcome> {
  const child = spawn(command, args, { cwd: repoRoot, env: { ...podmanEnvironment, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {});
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

/** `podman --runtime runc ARGS`: runc is the runtime that works in this sandbox. */
export function podman(args: string[], options: { stdin?: Buffer | string; timeoutMs?: number } = {}): Promise<CommandOutcome> {
  return runCommand('podman', ['--runtime', 'runc', ...args], options);
}

/** `podman ARGS`, expected to succeed; its stdout as trimmed text. */
export async function podmanText(args: string[]): Promise<string> {
  const outcome = await podman(args);
  if (outcome.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${outcome.code}: ${outcome.stderr}`);
  return outcome.stdout.toString('utf8').trim();
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
