import { Worker } from 'node:worker_threads';

// Runs in a thread of its own, whose event loop the model cannot block. An eval worker is
// CommonJS, or an ES module when node runs with --input-type=module (workers inherit execArgv):
// process.getBuiltinModule works in both, where require or import would break one.
const watchdogSource = `
const { workerData } = process.getBuiltinModule('node:worker_threads');
const { writeSync } = process.getBuiltinModule('node:fs');
const { heartbeat, limitMs } = workerData;
setInterval(() => {
  const blockedMs = Date.now() - heartbeat[0];
  if (blockedMs <= limitMs) return;
  writeSync(2, 'error: the event loop has been blocked for ' + blockedMs + ' ms, past INFERENCE_TIMEOUT_MS: the model is stuck in synchronous code ' +
    '(a busy loop or a long native call), so nothing in this process can answer. Killing the process (SIGKILL) so that it is restarted; ' +
    'under the supervisor (ai-integration shim.js) the model would be replaced in place.\\n');
  process.kill(process.pid, 'SIGKILL');
}, Math.min(1000, Math.max(50, limitMs / 4)));
`;

/**
 * Run directly, a model that blocks the event loop stops everything in the process, timers
 * included, so the scheduler's timeout can never fire and no probe gets an answer. A watchdog
 * thread watches the loop's heartbeat and, when it has stopped for longer than an inference may
 * take, kills the process so the container runtime restarts it. Returns a function that stops it.
 */
export function startEventLoopWatchdog(inferenceTimeoutMs: number): () => void {
  const heartbeat = new Float64Array(new SharedArrayBuffer(8));
  const beatMs = Math.min(500, Math.max(20, inferenceTimeoutMs / 10));
  heartbeat[0] = Date.now();
  const beat = setInterval(() => (heartbeat[0] = Date.now()), beatMs).unref();
  const watchdog = new Worker(watchdogSource, { eval: true, workerData: { heartbeat, limitMs: inferenceTimeoutMs + 2 * beatMs } });
  watchdog.unref();
  return () => {
    clearInterval(beat);
    void watchdog.terminate();
  };
}
