import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoRoot, type ProcessOutcome } from './run-process.js';

/** What `runWithMemoryCap` saw: how the process ended, and its peak resident memory (VmHWM). */
export interface CappedOutcome extends ProcessOutcome {
  peakBytes: number;
  /** Whether the process was killed for passing the cap (or the time limit). */
  killed: boolean;
}

function peakResidentBytes(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined; // already gone
  }
}

/**
 * Runs `node script args` and kills it as soon as its peak resident memory passes `capBytes`, so
 * a test of a memory bound stays safe for the machine even when the bound is broken. The peak is
 * sampled every 10 ms from /proc, and once more after stdout closes.
 */
export function runWithMemoryCap(script: string, args: string[], env: Record<string, string>, capBytes: number, timeoutMs = 30_000): Promise<CappedOutcome> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: repoRoot,
    env: { ...(process.env as Record<string, string>), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  let peakBytes = 0;
  let killed = false;
  const sample = () => {
    peakBytes = Math.max(peakBytes, peakResidentBytes(child.pid!) ?? 0);
    if (peakBytes > capBytes && !killed) {
      killed = true;
      child.kill('SIGKILL');
    }
  };
  const sampler = setInterval(sample, 10);
  child.stdout.on('end', sample);
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8'), peakBytes, killed });
    });
  });
}
