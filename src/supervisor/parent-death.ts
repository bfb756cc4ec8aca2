import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { loadNativeHelper } from './native-helper.js';

// How often the supervisor looks whether the starter behind a `sh -c` wrapper is still there.
const wrapperCheckIntervalMs = 1000;

/**
 * Asks the kernel (Linux, prctl PR_SET_PDEATHSIG) to send `signal` to this process when its
 * parent exits: killing what started a service (`npx ai-integration`, `npm start`, a test runner)
 * ends the service too, even with SIGKILL, which leaves the parent no chance to pass anything on.
 * Returns whether the kernel watches. A process whose parent is already gone (PID 1 in a
 * container has none; an orphan is adopted by init or a subreaper) has nothing to watch.
 */
export function signalOnParentDeath(signal: NodeJS.Signals): boolean {
  if (process.platform !== 'linux') return false;
  const parent = process.ppid;
  if (process.pid === 1 || parent <= 1) return false;
  const helper = loadNativeHelper();
  if (helper instanceof Error || !helper.signalOnParentDeath(constants.signals[signal])) return false;
  // The parent may have exited before the kernel watched it: then no signal will come.
  if (process.ppid !== parent) process.kill(process.pid, signal);
  return true;
}

/**
 * npm, npx and yarn run a script through `sh -c`, and Debian's sh (dash) stays as the command's
 * parent rather than replacing itself with it; killed with SIGKILL, npm leaves that shell behind,
 * alive, so the parent-death signal never comes. When the parent is such a wrapper, the service
 * ends (`signal`) once the wrapper loses its own parent, the starter: it was adopted.
 */
export function signalWhenWrapperOrphaned(signal: NodeJS.Signals): void {
  if (process.platform !== 'linux') return;
  const wrapper = process.ppid;
  if (!isShellCommandWrapper(wrapper)) return;
  const starter = parentOf(wrapper);
  if (starter === undefined || starter <= 1) return;
  const timer = setInterval(() => {
    const now = parentOf(wrapper);
    if (now === starter) return;
    clearInterval(timer);
    // A wrapper that exited itself (now undefined) is the parent-death signal's to report.
    if (now !== undefined && process.ppid === wrapper) process.kill(process.pid, signal);
  }, wrapperCheckIntervalMs);
  timer.unref();
}

function isShellCommandWrapper(pid: number): boolean {
  try {
    const [program, flag] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return flag === '-c' && /(^|\/)(sh|dash|bash|ash|zsh)$/.test(program ?? '');
  } catch {
    return false;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]); // "pid (comm) S ppid ...": the comm may hold ')'
  } catch {
    return undefined;
  }
}
