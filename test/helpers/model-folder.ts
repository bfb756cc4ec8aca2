// A model author's side of `ai-integration init`: the package packed as npm would publish it, and
// commands run in a folder of their own (npm install, npm test), as a user would type them.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessOutcome } from './run-process.js';
import { repoRoot } from './run-process.js';

/**
 * The environment without the npm_* variables of the `npm test` that runs the suite, so that a
 * nested npm reads no configuration of this repository's (its prefix, its scripts' settings).
 */
export function cleanEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^npm_/i.test(name) && name !== 'MODE' && name !== 'INIT_CWD') env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs `command args` in `cwd` to the end, stdin piped in, and collects everything it printed. */
export function runIn(
  cwd: string,
  command: string,
  args: string[],
  options: { stdin?: Buffer | string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ProcessOutcome> {
  const child = spawn(command, args, { cwd, env: cleanEnvironment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {});
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

/** Fails with what the command printed when it did not exit 0. */
export function expectSuccess(outcome: ProcessOutcome, what: string): ProcessOutcome {
  if (outcome.code !== 0)
    throw new Error(`${what} exited ${outcome.code ?? outcome.signal}\nstdout: ${outcome.stdout.toString('utf8')}\nstderr: ${outcome.stderr}`);
  return outcome;
}

/** `npm pack` of the built repository into `destination`; the tarball's path. */
export async function packPackage(destination: string): Promise<string> {
  expectSuccess(await runIn(repoRoot, 'npm', ['pack', '--silent', '--pack-destination', destination]), 'npm pack');
  const tarball = readdirSync(destination).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${destination}`);
  return join(destination, tarball);
}

/** npm install, from the npm cache where it can: the packages are those of this repository's own install. */
export const npmInstall = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
