// The model's own log lines (context.log): in the prediction's state, as `logs` webhook events as
// they come (throttled), in Cog's response, and on stderr where no one follows the prediction;
// directly and under the supervisor (the lines cross from the worker).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { callJson, startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('cancel-model.mjs');
const servers: RunningServer[] = [];
const receivers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  for (const receiver of receivers.splice(0)) {
    receiver.closeAllConnections();
    receiver.close();
  }
});

const signals = modelSignals();
afterAll(() => signals.remove());

async function start(supervised: boolean, env: Record<string, string> = {}): Promise<RunningServer> {
  const server = supervised ? await startServer(supervisorBin, env, [model]) : await startServer(model, env);
  servers.push(server);
  return server;
}

async function hookReceiver(): Promise<{ url: string; bodies: Record<string, any>[] }> {
  const bodies: Record<string, any>[] = [];
  const server = createServer((incoming, response) => {
    let text = '';
    incoming.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    incoming.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, any>);
      response.writeHead(200).end();
    });
  });
  receivers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

describe.each([
  ['directly', false],
  ['under the supervisor', true],
])('model logs, %s', (_label, supervised) => {
  test('native API: GET /predictions/{id} and the logs webhook events carry the lines as they come', async () => {
    const hook = await hookReceiver();
    const server = await start(supervised, signals.env);
    // Held after its first line until the test has seen it alone.
    signals.hold('a');
    const accepted = await callJson(
      server.url,
      'POST',
      '/predict',
      { inputs: { action: 'logged', note: 'a' } },
      { prefer: 'respond-async', webhook: hook.url, 'webhook-events-filter': 'logs,completed' },
    );
    expect(accepted.status).toBe(202);
    // While it runs, the first line is there and the second is not yet.
    expect(await eventually(async () => (await callJson(server.url, 'GET', `/predictions/${accepted.body.id}`)).body.logs === 'step 1 a\n', 20_000)).toBe(true);
    signals.release('a');
    expect(await eventually(() => hook.bodies.some((body) => body.status === 'succeeded'), 10_000)).toBe(true);
    const logsEvents = hook.bodies.filter((body) => body.status === 'processing');
    // Two lines 700 ms apart: a logs event for each (the throttle allows one per 500 ms; a machine
    // stalled past the gap could merge them), each with the logs so far, the last with both lines.
    expect(logsEvents.length).toBeGreaterThanOrEqual(1);
    for (const body of logsEvents) expect(['step 1 a\n', 'step 1 a\nstep 2 a\n']).toContain(body.logs);
    expect(logsEvents.at(-1)!.logs).toBe('step 1 a\nstep 2 a\n');
    expect(hook.bodies.at(-1)).toMatchObject({ status: 'succeeded', logs: 'step 1 a\nstep 2 a\n' });
    const state = await callJson(server.url, 'GET', `/predictions/${accepted.body.id}`);
    expect(state.body).toMatchObject({ status: 'succeeded', logs: 'step 1 a\nstep 2 a\n' });
  });

  test('a synchronous request, which no one follows by id: the lines go to stderr', async () => {
    const server = await start(supervised);
    const answer = await callJson(server.url, 'POST', '/predict', { inputs: { action: 'logged', note: 'sync' } });
    expect(answer.status).toBe(200);
    expect(server.stderr()).toContain('step 1 sync\n');
    expect(server.stderr()).toContain('step 2 sync\n');
  });
});

test('MODE=cog: the prediction response has the model logs', async () => {
  const server = await start(true, { MODE: 'cog' });
  const answer = await callJson(server.url, 'POST', '/predictions', { input: { action: 'logged', note: 'cog' } });
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ status: 'succeeded', logs: 'step 1 cog\nstep 2 cog\n' });
});
