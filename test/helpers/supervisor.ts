import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built supervisor, as `ai-integration` runs it. */
export const supervisorBin = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** The pids of a process's children (the supervisor's model worker). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
