// `ai-integration dev SHIM`: the page and the API served, and the model reloaded in place when the
// shim or a file it imports changes, on the same port, with nothing lost; a shim that stops
// loading is shown on the terminal, in readiness and to requests, and the next save recovers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const folders: string[] = [];
const running: ChildProcess[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
});
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

// A model folder as a user has one: the package reachable as `ai-integration`, the shim, and a
// file it imports. `hold` makes an inference wait (it says so with a file) until released.
function modelFolder(extension: 'ts' | 'js') {
  const folder = mkdtempSync(join(tmpdir(), 'dev-loop-'));
  const signals = mkdtempSync(join(tmpdir(), 'dev-loop-signals-'));
  folders.push(folder, signals);
  mkdirSync(join(folder, 'node_modules'));
  symlinkSync(repoRoot, join(folder, 'node_modules', 'ai-integration'));
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'my-model', version: '1.0.0', type: 'module', private: true }));
  const typed = extension === 'ts';
  const shim = join(folder, `shim.${extension}`);
  const writeShim = (version: string, broken = '') =>
    writeFileSync(
      shim,
      `import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { json, startLoop } from 'ai-integration';
import { greeting } from './greeting.js';
${broken}
const version${typed ? ': string' : ''} = ${JSON.stringify(version)};
startLoop(
  async (inputs${typed ? ': { hold: boolean }' : ''}) => {
    if (inputs.hold) {
      writeFileSync(${JSON.stringify(join(signals, 'started'))}, '');
      while (!existsSync(${JSON.stringify(join(signals, 'release'))})) await sleep(20);
    }
    return json({ version, greeting });
  },
  { hold: { type: 'boolean', default: false } },
);
`,
    );
  const writeGreeting = (text: string) =>
    writeFileSync(join(folder, `greeting.${extension}`), `export const greeting${typed ? ': string' : ''} = ${JSON.stringify(text)};\n`);
  writeGreeting('hello');
  writeShim('one');
  return {
    folder,
    shim,
    writeShim,
    writeGreeting,
    started: () => eventually(() => existsSync(join(signals, 'started')), 60_000),
    release: () => writeFileSync(join(signals, 'release'), ''),
  };
}

function startDev(shim: string, cwd: string) {
  const child = spawn(process.execPath, [supervisorBin, 'dev', shim], {
    cwd,
    env: { ...(process.env as Record<string, string>), PORT: '0', HOST: '127.0.0.1', MODE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let stderr = '';
  const waiters: { text: string | RegExp; from: number; resolve: () => void }[] = [];
  const seen = (text: string | RegExp, from: number) => (typeof text === 'string' ? stderr.indexOf(text, from) !== -1 : text.test(stderr.slice(from)));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    for (const waiter of waiters.splice(0)) {
      if (seen(waiter.text, waiter.from)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stderr: () => stderr,
    /** Resolves once `text` appears on stderr after the offset `from` (what was there when asked, by default). */
    logged(text: string | RegExp, from = stderr.length): Promise<void> {
      if (seen(text, from)) return Promise.resolve();
      return Promise.race([
        new Promise<void>((resolve) => waiters.push({ text, from, resolve })),
        exited.then(() => Promise.reject(new Error(`dev ended before logging ${String(text)}:\n${stderr}`))),
      ]);
    },
  };
}

async function predict(url: string, inputs: Record<string, unknown> = {}) {
  const answer = await request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });
  return { status: answer.statusCode, body: (await answer.body.json()) as { output?: unknown; error?: { code: string; message: string } } };
}

describe.each(['ts', 'js'] as const)('ai-integration dev shim.%s', (extension) => {
  test('serves, reloads on each save on the same port (an in-flight request answered by the old model, a waiting one by the new), shows a shim that does not load, and recovers', async () => {
    const model = modelFolder(extension);
    const dev = startDev(model.shim, model.folder);
    await dev.logged(/listening on http:\/\/[^:]+:\d+/);
    const port = /listening on http:\/\/[^:]+:(\d+)/.exec(dev.stderr())![1];
    const url = `http://127.0.0.1:${port}`;
    expect(dev.stderr()).toContain(`dev: watching ${model.folder} (`);
    expect(dev.stderr()).toContain('not node_modules, .git, dist');
    expect((await predict(url)).body.output).toEqual({ version: 'one', greeting: 'hello' });
    const page = await request(url);
    expect(page.statusCode).toBe(200);
    await page.body.dump();

    // An inference running while the shim changes finishes on the model that started it; a
    // request sent after the change waits for the new model.
    const held = predict(url, { hold: true });
    expect(await model.started()).toBe(true);
    const reloading = dev.logged(`dev: shim.${extension} changed; reloading the model`);
    model.writeShim('two');
    await reloading;
    const waiting = predict(url);
    model.release();
    expect(await held).toEqual({ status: 200, body: expect.objectContaining({ output: { version: 'one', greeting: 'hello' } }) });
    expect(await waiting).toEqual({ status: 200, body: expect.objectContaining({ output: { version: 'two', greeting: 'hello' } }) });

    // A file the shim imports.
    const reloadingAgain = dev.logged(`dev: greeting.${extension} changed; reloading the model`);
    model.writeGreeting('bonjour');
    await reloadingAgain;
    expect((await predict(url)).body.output).toEqual({ version: 'two', greeting: 'bonjour' });

    // A save that does not load: the terminal says so once, readiness and requests give the error.
    const before = dev.stderr().length;
    const broken = dev.logged('the shim does not load (its error is above); waiting for a change to load it again');
    model.writeShim('three', 'const = ;');
    await broken;
    const printed = dev.stderr().slice(before);
    expect(printed.match(/shim\.(ts|js):5/g)?.length ?? 0, printed).toBeGreaterThanOrEqual(1);
    const health = await request(`${url}/health`);
    const readiness = (await health.body.json()) as { status: string; reason: string };
    expect(health.statusCode).toBe(503);
    expect(readiness.reason).toContain('the shim does not load');
    expect(readiness.reason).toContain(`shim.${extension}:5`);
    const refused = await predict(url);
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toContain(`shim.${extension}:5`);
    expect(printed.split('the shim does not load (its error is above)').length).toBe(2);

    // The next save that loads recovers, on the same port, without restarting dev.
    const recovered = dev.logged('loaded the changed shim');
    model.writeShim('three');
    await recovered;
    expect((await predict(url)).body.output).toEqual({ version: 'three', greeting: 'bonjour' });
    expect(dev.stderr().match(/listening on /g)).toHaveLength(1);
  });
});

test('dev started on a shim that does not load: says so, waits, and serves the first save that loads', async () => {
  const model = modelFolder('ts');
  model.writeShim('one', 'const = ;');
  const dev = startDev(model.shim, model.folder);
  await dev.logged('the shim does not load (its error is above); waiting for a change to load it again');
  expect(dev.stderr()).toContain('error: the shim "shim.ts" cannot be loaded: Transform failed with 1 error:');
  expect(dev.stderr()).toContain('shim.ts:5');
  expect(dev.stderr()).not.toContain('listening on');
  model.writeShim('fixed');
  await dev.logged(/listening on http:\/\/[^:]+:\d+/);
  const port = /listening on http:\/\/[^:]+:(\d+)/.exec(dev.stderr())![1];
  expect((await predict(`http://127.0.0.1:${port}`)).body.output).toEqual({ version: 'fixed', greeting: 'hello' });
});

test('dev with a one-shot MODE is a usage error naming the serving default', async () => {
  const model = modelFolder('js');
  const child = spawn(process.execPath, [supervisorBin, 'dev', model.shim], {
    cwd: model.folder,
    env: { ...(process.env as Record<string, string>), MODE: 'test_model_integration' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise((resolve) => child.once('close', resolve));
  expect(code).toBe(2);
  expect(stderr).toContain('dev serves the model and reloads it; MODE=test_model_integration runs once');
});
