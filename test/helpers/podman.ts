import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessOutcome } from './run-process.js';

export { freePort } from './free-port.js';

/** podman's environment here: containers.conf without default ulimits (see that file). */
export const podmanEnvironment = {
  ...(process.env as Record<string, string>),
  CONTAINERS_CONF: fileURLToPath(new URL('../container/containers.conf', import.meta.url)),
};

/** Runs a command of the container tests (podman, the docker/ scripts) with podman's environment. */
export function runCommand(
  command: string,
  args: string[],
  options: { stdin?: Buffer | string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ProcessOutcome> {
  return runProcess(command, args, { env: { ...podmanEnvironment, ...options.env }, stdin: options.stdin, timeoutMs: options.timeoutMs ?? 120_000 });
}

/** `podman --runtime runc ARGS`: runc is the runtime that works in this sandbox. */
export function podman(args: string[], options: { stdin?: Buffer | string; timeoutMs?: number } = {}): Promise<ProcessOutcome> {
  return runCommand('podman', ['--runtime', 'runc', ...args], options);
}

/** `podman ARGS`, expected to succeed; its stdout as trimmed text. */
export async function podmanText(args: string[]): Promise<string> {
  const outcome = await podman(args);
  if (outcome.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${outcome.code}: ${outcome.stderr}`);
  return outcome.stdout.toString('utf8').trim();
}
