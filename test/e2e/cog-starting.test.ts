// MODE=cog under the supervisor: while the first model load runs, the port answers Cog's health
// check with STARTING (and 503 with Cog's `detail` to everything else), then the service takes
// the same port over and says READY.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { callJson } from '../helpers/http-server.js';
import { fixture, repoRoot } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const scratch = mkdtempSync(join(tmpdir(), 'cog-starting-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('STARTING while the first load runs, on the port the service then listens on; READY after', async () => {
  const loadWait = join(scratch, 'loading');
  writeFileSync(loadWait, '');
  const child = spawn(process.execPath, [supervisorBin, fixture('cog-model.mjs')], {
    cwd: repoRoot,
    env: { ...(process.env as Record<string, string>), MODE: 'cog', PORT: '0', HOST: '127.0.0.1', LOAD_WAIT_FILE: loadWait },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    expect(await eventually(() => /health-check on http:\/\/127\.0\.0\.1:(\d+)\/health-check/.test(stderr), 20_000)).toBe(true);
    const port = /health-check on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)![1];
    const url = `http://127.0.0.1:${port}`;
    const starting = await callJson(url, 'GET', '/health-check');
    expect(starting.status).toBe(200);
    expect(starting.body).toMatchObject({ status: 'STARTING', setup: { completed_at: null, status: 'starting', logs: '' } });
    expect(starting.body.setup.started_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
    const early = await callJson(url, 'POST', '/predictions', { input: { note: 'too early' } });
    expect(early.status).toBe(503);
    expect(early.body.detail).toContain('the model is loading');
    expect(stderr).not.toContain('listening on');

    rmSync(loadWait);
    expect(await eventually(() => stderr.includes(`listening on http://127.0.0.1:${port} `), 20_000)).toBe(true);
    const ready = await callJson(url, 'GET', '/health-check');
    expect(ready.body).toMatchObject({ status: 'READY', setup: { status: 'succeeded' } });
    const prediction = await callJson(url, 'POST', '/predictions', { input: { note: 'on time' } });
    expect(prediction.status).toBe(200);
    expect(prediction.body.status).toBe('succeeded');
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
