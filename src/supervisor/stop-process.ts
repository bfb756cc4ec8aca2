import type { ChildProcess } from 'node:child_process';

/**
 * Ends a child process and resolves once it has exited: its IPC channel is closed (a healthy
 * worker exits on that by itself), SIGTERM follows, and SIGKILL after `graceMs` for a process
 * that handles or cannot act on SIGTERM (a model stuck in native code or a busy loop).
 */
export function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    if (child.connected) child.disconnect();
    child.kill('SIGTERM');
  });
}
