import { readFileSync, readdirSync } from 'node:fs';
import type { Logger } from '../types.js';
import { loadNativeHelper } from './native-helper.js';

// A safety net beside SIGCHLD: a signal that arrives while a scan runs is not lost, but one scan
// per interval costs nothing and covers any case where a signal is.
const rescanIntervalMs = 5000;

/** Our children as the kernel lists them (every thread's list: children belong to the thread that forked). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    const list = readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8');
    for (const child of list.split(' ')) if (child.trim()) children.push(Number(child));
  }
  return children;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z'; // "pid (comm) S ...": the comm may hold ')'
  } catch {
    return false; // already gone
  }
}

/**
 * Reaps orphaned processes, as an init process must: when the supervisor is PID 1 in a container,
 * every orphan in it becomes its child, and Node only waits for the children it spawned itself.
 * The supervisor also becomes a "child subreaper", so that when it is not PID 1, the orphans its
 * model leaves behind (helpers started and abandoned by native code) still come to it and are
 * reaped rather than left to whoever is init. `isOwnChild` names the processes Node spawned (the
 * workers): Node waits for those itself, and waiting for them here would steal their exit status.
 */
export function startOrphanReaper(isOwnChild: (pid: number) => boolean, log: Logger): void {
  if (process.platform !== 'linux') return;
  const addon = loadNativeHelper();
  if (addon instanceof Error) {
    if (process.pid === 1) {
      log.warn(
        `running as PID 1 without the native reaper (${addon.message.split('\n')[0]}): orphaned processes will not be reaped; run the container with --init`,
      );
    }
    return;
  }
  addon.becomeSubreaper();
  const scan = () => {
    let children: number[];
    try {
      children = childrenOf(process.pid);
    } catch {
      return; // a kernel without /proc/PID/task/TID/children: nothing to find
    }
    for (const pid of children) {
      if (!isOwnChild(pid) && isZombie(pid) && addon.reapExited(pid)) log.info(`reaped orphaned process ${pid}`);
    }
  };
  process.on('SIGCHLD', scan);
  setInterval(scan, rescanIntervalMs).unref();
  scan();
}
