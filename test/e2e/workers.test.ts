import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { startServer, stopOrKill, type RunningServer } from '../helpers/http-server.js';
import { loadWithThrows, nativeLoad, type LoadProtocol } from '../helpers/load-with-throws.js';
import { fixture, runScript } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('worker-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'ai-workers-'));
let files = 0;

// The worker model behind a start-up that waits while SLOW_START_FILE exists: the first workers
// load at once, and a replacement started after the test creates the file is seen restarting
// until the test deletes it, whatever the machine's speed.
const slowStartModel = join(scratch, 'slow-start-model.mjs');
writeFileSync(
  slowStartModel,
  `import { existsSync } from 'node:fs';
while (existsSync(process.env.SLOW_START_FILE)) await new Promise((resolve) => setTimeout(resolve, 20));
await import(${JSON.stringify(pathToFileURL(model).href)});
`,
);

interface WorkerInfo {
  index: number;
  state: string;
  pid: number | null;
  load: number;
  restarts: number;
  device?: string;
}

interface Supervised {
  server: RunningServer;
  /** The CALLS_FILE lines so far: "start <note> <worker>". */
  calls: () => string[];
}

const servers: RunningServer[] = [];
async function supervise(env: Record<string, string>, shim = model): Promise<Supervised> {
  const callsFile = join(scratch, `calls-${++files}`);
  const server = await startServer(supervisorBin, { CALLS_FILE: callsFile, ...env }, [shim]);
  servers.push(server);
  return { server, calls: () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n') : []) };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map(stopOrKill));
});

async function predict(url: string, inputs: Record<string, unknown>, dispatcher?: Agent): Promise<{ status: number; body: any }> {
  const response = await request(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs }),
    ...(dispatcher ? { dispatcher } : {}),
  });
  return { status: response.statusCode, body: await response.body.json() };
}

async function workers(url: string): Promise<WorkerInfo[]> {
  const body = (await (await request(`${url}/info`)).body.json()) as { workers: WorkerInfo[] };
  return body.workers;
}

const metrics = async (url: string) => (await request(`${url}/metrics`)).body.text();

/** The worker index that started the inference with this note, from CALLS_FILE, once it has. */
async function startedOn(calls: () => string[], note: string): Promise<number> {
  const prefix = `start ${note} `;
  expect(await eventually(() => calls().some((line) => line.startsWith(prefix)), 15_000)).toBe(true);
  return Number(
    calls()
      .find((line) => line.startsWith(prefix))!
      .slice(prefix.length),
  );
}

const allReady = (url: string, count: number) =>
  eventually(async () => (await workers(url)).filter((worker) => worker.state === 'ready').length === count, 20_000);

// test/helpers/load-with-throws.ts's load, read from the worker model's answers.
const workerLoad: LoadProtocol = {
  ...nativeLoad,
  read: (_status, body) => {
    const answer = body as { output?: { note: string }; error?: { message: string } };
    return { note: answer.output?.note, error: answer.error?.message };
  },
};

describe('WORKERS=N under the supervisor', () => {
  test('starts N workers, each in /info and the metrics; equally idle workers take turns, and a busy one is passed over for an idle one', async () => {
    const { server, calls } = await supervise({ WORKERS: '2' });
    expect(await allReady(server.url, 2)).toBe(true);
    const started = await workers(server.url);
    expect(started.map(({ index, state, load, restarts }) => ({ index, state, load, restarts }))).toEqual([
      { index: 0, state: 'ready', load: 0, restarts: 0 },
      { index: 1, state: 'ready', load: 0, restarts: 0 },
    ]);
    expect(new Set(started.map((worker) => worker.pid)).size).toBe(2);
    const text = await metrics(server.url);
    expect(text).toMatch(/^model_worker_ready\{worker="0"\} 1$/m);
    expect(text).toMatch(/^model_worker_ready\{worker="1"\} 1$/m);

    const answers: any[] = [];
    for (let index = 0; index < 6; index++) {
      const answer = await predict(server.url, { note: `turn ${index}` });
      expect(answer.status).toBe(200);
      expect(answer.body.output.note).toBe(`turn ${index}`);
      answers.push(answer.body.output);
    }
    // Each answer names the worker that ran it and that worker's process.
    expect(new Set(answers.map((output) => output.worker))).toEqual(new Set(['0', '1']));
    for (const output of answers) expect(output.pid).toBe(started[Number(output.worker)]!.pid);
    expect(answers.map((output) => output.worker).filter((worker, index, all) => index > 0 && worker === all[index - 1])).toEqual([]);

    // While one worker holds a long inference, every request goes to the other, idle one.
    const long = predict(server.url, { note: 'long', delay_ms: 1500 });
    const busy = await startedOn(calls, 'long');
    expect((await workers(server.url))[busy]!.load).toBe(1);
    for (let index = 0; index < 4; index++) {
      const answer = await predict(server.url, { note: `short ${index}` });
      expect(answer.status).toBe(200);
      expect(answer.body.output.worker).toBe(String(1 - busy));
    }
    expect((await long).body.output).toMatchObject({ note: 'long', worker: String(busy) });
  });

  test('concurrent requests are spread over both workers', async () => {
    const { server } = await supervise({ WORKERS: '2' });
    expect(await allReady(server.url, 2)).toBe(true);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => predict(server.url, { note: `together ${index}`, delay_ms: 200 })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(answers.map((answer) => answer.body.output.note)).toEqual(Array.from({ length: 8 }, (_, index) => `together ${index}`));
    expect(new Set(answers.map((answer) => answer.body.output.worker))).toEqual(new Set(['0', '1']));
  });

  test('WORKERS=auto starts one worker per CPU', async () => {
    const { server } = await supervise({ WORKERS: 'auto' });
    const expected = Math.min(256, availableParallelism());
    expect(await allReady(server.url, expected)).toBe(true);
    expect((await workers(server.url)).map((worker) => worker.index)).toEqual(Array.from({ length: expected }, (_, index) => index));
  });

  test('under a throwing load, each throw restarts only its own worker: no connection errors, every other request answered with its own note', async () => {
    const { server } = await supervise({ WORKERS: '2', MAX_QUEUE: '200' });
    expect(await allReady(server.url, 2)).toBe(true);
    const total = 90;
    const { connectionErrors, outcomes, readiness } = await loadWithThrows(server.url, total, 6, 30, workerLoad);
    expect(connectionErrors).toBe(0);
    expect(outcomes).toHaveLength(total);
    const throwing = outcomes.filter((outcome) => outcome.throwing);
    expect(throwing.map((outcome) => outcome.index).sort((a, b) => a - b)).toEqual([10, 40, 70]);
    for (const outcome of throwing) {
      expect(outcome.status).toBe(500);
      expect(outcome.error).toBe('the inference function threw: thrown on purpose by ');
    }
    const others = outcomes.filter((outcome) => !outcome.throwing);
    expect(others.filter((outcome) => outcome.status !== 200)).toEqual([]);
    expect(others.filter((outcome) => outcome.note !== `request ${outcome.index}`)).toEqual([]);
    expect(readiness.at(-1)).toBe(200);

    expect(await allReady(server.url, 2)).toBe(true);
    const after = await workers(server.url);
    expect(after.reduce((sum, worker) => sum + worker.restarts, 0)).toBe(3);
    expect(await metrics(server.url)).toMatch(/^model_restarts_total\{cause="threw"\} 3$/m);
  });

  test('a throw restarts its own worker alone: the other serves meanwhile, with the same process, and takes the requests queued behind the throw', async () => {
    const slowFlag = join(scratch, `slow-${++files}`);
    const signals = modelSignals();
    const { server, calls } = await supervise({ WORKERS: '2', SLOW_START_FILE: slowFlag, ...signals.env }, slowStartModel);
    expect(await allReady(server.url, 2)).toBe(true);
    const before = await workers(server.url);
    writeFileSync(slowFlag, 'replacements load slowly from now on');

    // Held in the model until requests wait behind it.
    signals.hold('boom');
    const boom = predict(server.url, { note: 'boom', action: 'throw' });
    const thrower = await startedOn(calls, 'boom');
    const other = 1 - thrower;
    // Both workers busy: the least busy takes each next one, ties in turn, so the thrower's queue
    // holds some of these behind the throw; they never start there.
    const queued = ['q0', 'q1', 'q2', 'q3'].map((note) => predict(server.url, { note, delay_ms: 300 }));
    expect(await eventually(async () => (await workers(server.url))[thrower]!.load > 1, 10_000)).toBe(true);
    signals.remove();

    const thrown = await boom;
    expect(thrown.status).toBe(500);
    expect(thrown.body.error).toEqual({ code: 'AI_ERR_INFERENCE_THREW', message: 'the inference function threw: thrown on purpose by boom' });
    const served = await Promise.all(queued);
    expect(served.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(served.map((answer) => answer.body.output.note)).toEqual(['q0', 'q1', 'q2', 'q3']);
    // Each ran once, none on the worker that threw.
    for (const note of ['q0', 'q1', 'q2', 'q3']) expect(calls().filter((line) => line.startsWith(`start ${note} `))).toEqual([`start ${note} ${other}`]);

    // While the thrower's replacement loads, the other worker, the same process, answers everything.
    const during = await workers(server.url);
    expect(during[thrower]!.state).not.toBe('ready');
    for (let index = 0; index < 3; index++) {
      const answer = await predict(server.url, { note: `meanwhile ${index}` });
      expect(answer.status).toBe(200);
      expect(answer.body.output).toMatchObject({ note: `meanwhile ${index}`, worker: String(other), pid: before[other]!.pid });
    }

    rmSync(slowFlag);
    expect(await allReady(server.url, 2)).toBe(true);
    const after = await workers(server.url);
    expect(after[thrower]).toMatchObject({ index: thrower, state: 'ready', restarts: 1 });
    expect(after[thrower]!.pid).not.toBe(before[thrower]!.pid);
    expect(after[other]).toMatchObject({ index: other, state: 'ready', restarts: 0, pid: before[other]!.pid });
    expect(await metrics(server.url)).toMatch(/^model_restarts_total\{cause="threw"\} 1$/m);
  });

  test('one worker killed with SIGKILL mid-load: only the inference it was running fails; everything it held and everything else is answered, and it is restarted', async () => {
    const { server, calls } = await supervise({ WORKERS: '2', MAX_QUEUE: '200' });
    expect(await allReady(server.url, 2)).toBe(true);
    const before = await workers(server.url);

    const victim = predict(server.url, { note: 'victim', delay_ms: 5000 });
    const killed = await startedOn(calls, 'victim');
    const other = 1 - killed;

    const agent = new Agent({ connections: 8 });
    const total = 40;
    const outcomes: { index: number; status: number; note: string | undefined }[] = [];
    let next = 0;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < total) {
          const index = next++;
          const answer = await predict(server.url, { note: `load ${index}`, delay_ms: 20 }, agent);
          outcomes.push({ index, status: answer.status, note: answer.body.output?.note });
        }
      }),
    );
    // Some of the load waits in the victim's worker, behind the victim, when it is killed.
    expect(await eventually(async () => outcomes.length >= 10 && (await workers(server.url))[killed]!.load > 1, 15_000)).toBe(true);
    process.kill(before[killed]!.pid!, 'SIGKILL');

    const died = await victim;
    expect(died.status).toBe(500);
    expect(died.body.error).toEqual({
      code: 'AI_ERR_WORKER_DIED',
      message: `the model worker ${killed} died (killed by SIGKILL) during this inference; it is being restarted`,
    });
    await load;
    await agent.close();
    expect(outcomes).toHaveLength(total);
    expect(outcomes.filter((outcome) => outcome.status !== 200 || outcome.note !== `load ${outcome.index}`)).toEqual([]);

    expect(await allReady(server.url, 2)).toBe(true);
    const after = await workers(server.url);
    expect(after[killed]).toMatchObject({ state: 'ready', restarts: 1 });
    expect(after[killed]!.pid).not.toBe(before[killed]!.pid);
    expect(after[other]).toMatchObject({ state: 'ready', restarts: 0, pid: before[other]!.pid });
    expect(await metrics(server.url)).toMatch(/^model_restarts_total\{cause="signal_SIGKILL"\} 1$/m);
    expect(server.stderr()).toContain(`the model worker ${killed} died (killed by SIGKILL); restarting it`);
  });

  test('an inference past INFERENCE_TIMEOUT_MS: 504 for it, that worker replaced alone, the other serving meanwhile', async () => {
    const { server, calls } = await supervise({ WORKERS: '2', INFERENCE_TIMEOUT_MS: '1000', WORKER_KILL_GRACE_MS: '500' });
    expect(await allReady(server.url, 2)).toBe(true);
    const before = await workers(server.url);
    const stuck = predict(server.url, { note: 'stuck', delay_ms: 20_000 });
    const slow = await startedOn(calls, 'stuck');
    const other = 1 - slow;
    for (let index = 0; index < 3; index++) {
      const answer = await predict(server.url, { note: `beside ${index}` });
      expect(answer.status).toBe(200);
      expect(answer.body.output).toMatchObject({ note: `beside ${index}`, worker: String(other) });
    }
    const timedOut = await stuck;
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.error.code).toBe('AI_ERR_TIMEOUT');

    expect(await eventually(async () => (await workers(server.url))[slow]!.restarts === 1, 20_000)).toBe(true);
    expect(await allReady(server.url, 2)).toBe(true);
    const after = await workers(server.url);
    expect(after[slow]!.pid).not.toBe(before[slow]!.pid);
    expect(after[other]).toMatchObject({ restarts: 0, pid: before[other]!.pid });
    expect(await metrics(server.url)).toMatch(/^model_restarts_total\{cause="timeout"\} 1$/m);
  });

  test('readiness stays 200 while one worker restarts and the other is ready; /info and the metrics show the one restarting', async () => {
    const slowFlag = join(scratch, `slow-${++files}`);
    const { server } = await supervise({ WORKERS: '2', SLOW_START_FILE: slowFlag }, slowStartModel);
    expect(await allReady(server.url, 2)).toBe(true);
    const before = await workers(server.url);
    writeFileSync(slowFlag, 'replacements load slowly from now on');
    process.kill(before[0]!.pid!, 'SIGKILL');

    const observations: { restarting: boolean; health: number; readyMetric: string | undefined; served: number; servedBy: string }[] = [];
    expect(
      await eventually(async () => {
        const [first] = await workers(server.url);
        const health = await request(`${server.url}/health`);
        await health.body.dump();
        const readyMetric = /^model_worker_ready\{worker="0"\} (\d)$/m.exec(await metrics(server.url))?.[1];
        const answer = await predict(server.url, { note: 'during' });
        const [still] = await workers(server.url);
        // Restarting throughout the observation, not only at one end of it.
        const restarting = first!.state !== 'ready' && still!.state !== 'ready';
        observations.push({ restarting, health: health.statusCode, readyMetric, served: answer.status, servedBy: answer.body.output?.worker });
        // Seen restarting: its replacement may now load.
        if (restarting) rmSync(slowFlag, { force: true });
        return still!.state === 'ready' && still!.restarts === 1;
      }, 30_000),
    ).toBe(true);

    const restarting = observations.filter((observation) => observation.restarting);
    expect(restarting.length).toBeGreaterThan(0);
    for (const observation of restarting) expect(observation).toEqual({ restarting: true, health: 200, readyMetric: '0', served: 200, servedBy: '1' });
    expect(observations.filter((observation) => observation.health !== 200 || observation.served !== 200)).toEqual([]);
    expect(await metrics(server.url)).toMatch(/^model_worker_ready\{worker="0"\} 1$/m);
  });
});

describe('WORKER_INDEX and GPUS', () => {
  /** Sequential requests until every worker has answered; each worker's answer by index. */
  async function answersByWorker(url: string, count: number): Promise<Map<string, any>> {
    const byWorker = new Map<string, any>();
    for (let attempt = 0; attempt < 4 * count && byWorker.size < count; attempt++) {
      const answer = await predict(url, { note: `who ${attempt}` });
      expect(answer.status).toBe(200);
      byWorker.set(answer.body.output.worker, answer.body.output);
    }
    return byWorker;
  }

  test("GPUS=0,1 with WORKERS=3: devices 0, 1, 0 round robin, in /info and in each worker's CUDA_VISIBLE_DEVICES; a restarted worker keeps its index and device", async () => {
    const { server } = await supervise({ WORKERS: '3', GPUS: '0,1', CUDA_VISIBLE_DEVICES: '9' });
    expect(await allReady(server.url, 3)).toBe(true);
    const before = await workers(server.url);
    expect(before.map((worker) => [worker.index, worker.device])).toEqual([
      [0, '0'],
      [1, '1'],
      [2, '0'],
    ]);
    const byWorker = await answersByWorker(server.url, 3);
    expect([...byWorker.keys()].sort()).toEqual(['0', '1', '2']);
    expect(['0', '1', '2'].map((index) => byWorker.get(index).cuda)).toEqual(['0', '1', '0']);
    for (const [index, output] of byWorker) expect(output.pid).toBe(before[Number(index)]!.pid);

    process.kill(before[1]!.pid!, 'SIGKILL');
    expect(await eventually(async () => (await workers(server.url))[1]!.restarts === 1, 20_000)).toBe(true);
    expect(await allReady(server.url, 3)).toBe(true);
    const after = await workers(server.url);
    expect(after[1]).toMatchObject({ index: 1, device: '1', state: 'ready' });
    const again = await answersByWorker(server.url, 3);
    expect(again.get('1')).toMatchObject({ worker: '1', cuda: '1', pid: after[1]!.pid });
    expect(after[1]!.pid).not.toBe(before[1]!.pid);
  });

  test('GPUS=auto spreads over the ids in CUDA_VISIBLE_DEVICES', async () => {
    const { server } = await supervise({ WORKERS: '2', GPUS: 'auto', CUDA_VISIBLE_DEVICES: '5,7' });
    expect(await allReady(server.url, 2)).toBe(true);
    expect((await workers(server.url)).map((worker) => worker.device)).toEqual(['5', '7']);
    const byWorker = await answersByWorker(server.url, 2);
    expect(byWorker.get('0')).toMatchObject({ worker: '0', cuda: '5' });
    expect(byWorker.get('1')).toMatchObject({ worker: '1', cuda: '7' });
  });

  test('without GPUS, every worker keeps CUDA_VISIBLE_DEVICES as it is, and /info has no device', async () => {
    const { server } = await supervise({ WORKERS: '2', CUDA_VISIBLE_DEVICES: '3' });
    expect(await allReady(server.url, 2)).toBe(true);
    for (const worker of await workers(server.url)) expect(worker).not.toHaveProperty('device');
    const byWorker = await answersByWorker(server.url, 2);
    expect(byWorker.get('0')).toMatchObject({ worker: '0', cuda: '3' });
    expect(byWorker.get('1')).toMatchObject({ worker: '1', cuda: '3' });
  });

  test('one worker (the default) gets WORKER_INDEX 0', async () => {
    const { server } = await supervise({});
    const answer = await predict(server.url, { note: 'alone' });
    expect(answer.body.output).toMatchObject({ note: 'alone', worker: '0' });
    expect((await workers(server.url)).map((worker) => worker.index)).toEqual([0]);
  });
});

describe('bad WORKERS and GPUS stop the supervisor with exit code 3 and a message naming the variable', () => {
  const cases: [string, Record<string, string>][] = [
    ['WORKERS', { WORKERS: '0' }],
    ['WORKERS', { WORKERS: '-1' }],
    ['WORKERS', { WORKERS: 'abc' }],
    ['WORKERS', { WORKERS: '1000' }],
    ['WORKERS', { WORKERS: '1.5' }],
    ['GPUS', { GPUS: ',' }],
    ['GPUS', { GPUS: 'gpu 0' }],
    ['GPUS', { GPUS: '0;1' }],
  ];
  test.each(cases)('%s: %o', async (variable, env) => {
    const outcome = await runScript(supervisorBin, { args: [model], mode: 'http', env: { PORT: '0', HOST: '127.0.0.1', ...env } });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain(`${variable}=`);
    expect(outcome.stderr).toContain(env[variable]);
    expect(outcome.stderr).not.toContain('listening on');
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
  });
});
