// The benchmarks' own Redis: Debian's redis-server on a free loopback port, no persistence.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';

export async function startRedis() {
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', mkdtempSync(join(tmpdir(), 'bench-redis-')), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const connection = { host: '127.0.0.1', port };
  for (let tries = 0; ; tries++) {
    try {
      const probe = new Queue('probe', { connection: { ...connection, maxRetriesPerRequest: 1, retryStrategy: () => null } });
      await probe.waitUntilReady();
      await probe.close();
      break;
    } catch (error) {
      if (tries > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { connection, url: `redis://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** Adds `count` jobs in bulk and resolves with jobs per second once all have completed (none may fail). */
export async function drain(queue, count, data) {
  const started = performance.now();
  for (let at = 0; at < count; at += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, count - at) }, (_, index) => ({ name: 'predict', data: data(at + index) })));
  }
  for (;;) {
    const counts = await queue.getJobCounts('completed', 'failed');
    if (counts.failed > 0) throw new Error(`${counts.failed} jobs failed`);
    if (counts.completed >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return (count * 1000) / (performance.now() - started);
}
