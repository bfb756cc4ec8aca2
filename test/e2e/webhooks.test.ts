import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { callJson, startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, runScript } from '../helpers/run-process.js';
import { eventually } from '../helpers/supervisor.js';

const model = fixture('cancel-model.mjs');
const servers: RunningServer[] = [];
const receivers: Server[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'ai-webhooks-'));
const gates: string[] = [];
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(async () => {
  // A failing test must leave no model held after its first chunk (test/fixtures/stream-model.mjs).
  for (const path of gates.splice(0)) writeFileSync(path, '');
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  for (const receiver of receivers.splice(0)) {
    receiver.closeAllConnections();
    receiver.close();
  }
});

interface Received {
  body: Record<string, any>;
  authorization: string | undefined;
}

/** A webhook receiver on 127.0.0.1: `answer` decides each call's status (undefined: never answer). */
async function receiver(
  answer: (received: Received, index: number) => number | undefined = () => 200,
): Promise<{ url: string; received: Received[]; open: () => number }> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((incoming: IncomingMessage, response) => {
    let text = '';
    incoming.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    incoming.on('end', () => {
      const entry = { body: JSON.parse(text) as Record<string, any>, authorization: incoming.headers.authorization };
      received.push(entry);
      const status = answer(entry, received.length - 1);
      if (status === undefined) hanging.push(response);
      else response.writeHead(status).end();
    });
  });
  receivers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, open: () => hanging.length };
}

const call = callJson;

describe('webhooks', () => {
  test('native API: the Webhook header gets start then completed, in order, with WEBHOOK_AUTH_TOKEN as a bearer token to a host WEBHOOK_AUTH_HOSTS lists', async () => {
    const hook = await receiver();
    const server = await startServer(model, { WEBHOOK_AUTH_TOKEN: 'hook-secret', WEBHOOK_AUTH_HOSTS: '127.0.0.1' });
    servers.push(server);
    const accepted = await call(server.url, 'POST', '/predict', { inputs: { note: 'hooked' } }, { prefer: 'respond-async', webhook: hook.url });
    expect(accepted.status).toBe(202);
    expect(await eventually(() => hook.received.length >= 2, 10_000)).toBe(true);
    expect(hook.received.map((entry) => entry.body.status)).toEqual(['processing', 'succeeded']);
    expect(hook.received.every((entry) => entry.body.id === accepted.body.id && entry.authorization === 'Bearer hook-secret')).toBe(true);
    expect(hook.received[1]!.body.output).toMatchObject({ note: 'hooked' });
    // A filter of completed only, on a synchronous request.
    const sync = await call(
      server.url,
      'POST',
      '/predict',
      { inputs: { note: 'only-completed' } },
      { webhook: hook.url, 'webhook-events-filter': 'completed' },
    );
    expect(sync.status).toBe(200);
    expect(await eventually(() => hook.received.length >= 3, 10_000)).toBe(true);
    expect(hook.received.slice(2).map((entry) => [entry.body.status, entry.body.output.note])).toEqual([['succeeded', 'only-completed']]);
    // Only http(s) targets.
    const refused = await call(server.url, 'POST', '/predict', { inputs: {} }, { prefer: 'respond-async', webhook: 'file:///etc/passwd' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toMatch(/only http and https/);
  });

  test('a malformed WEBHOOK_SECRET stops the process at start (exit 3) with one line naming it', async () => {
    const outcome = await runScript(model, { mode: 'http', env: { PORT: '0', HOST: '127.0.0.1', WEBHOOK_SECRET: 'whsec_AQEBAQEBAQE=' } });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toMatch(/WEBHOOK_SECRET holds 8 bytes; Standard Webhooks takes 24 to 64 random bytes/);
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
  });

  test('MODE=cog: completed is retried after the receiver answers 500 twice; webhook_events_filter is honoured', async () => {
    const hook = await receiver((_, index) => (index < 2 ? 500 : 200));
    const server = await startServer(model, { MODE: 'cog' });
    servers.push(server);
    const posted = await call(
      server.url,
      'POST',
      '/predictions',
      { id: 'hooked-cog', input: { note: 'retry' }, webhook: hook.url, webhook_events_filter: ['completed'] },
      { prefer: 'respond-async' },
    );
    expect(posted.status).toBe(202);
    expect(await eventually(() => hook.received.length >= 3, 15_000)).toBe(true);
    expect(hook.received.map((entry) => [entry.body.id, entry.body.status])).toEqual([
      ['hooked-cog', 'succeeded'],
      ['hooked-cog', 'succeeded'],
      ['hooked-cog', 'succeeded'],
    ]);
    expect(hook.received[2]!.body).toMatchObject({ input: { note: 'retry' }, output: { note: 'retry' } });
    // Delivered: no fourth call comes.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(hook.received).toHaveLength(3);
  });

  test('a receiver that never answers holds up nothing: the predictions after it are served while its calls hang', async () => {
    const hook = await receiver(() => undefined);
    const server = await startServer(model, { SHUTDOWN_TIMEOUT_MS: '200' });
    servers.push(server);
    const ids: string[] = [];
    for (let index = 0; index < 20; index++)
      ids.push((await call(server.url, 'POST', '/predict', { inputs: { note: `h${index}` } }, { prefer: 'respond-async', webhook: hook.url })).body.id);
    expect(
      await eventually(async () => {
        for (const id of ids) if ((await call(server.url, 'GET', `/predictions/${id}`)).body.status !== 'succeeded') return false;
        return true;
      }, 15_000),
    ).toBe(true);
    // Every prediction succeeded while the receiver still holds calls unanswered.
    expect(hook.open()).toBeGreaterThan(0);
    const sync = await call(server.url, 'POST', '/predict', { inputs: { note: 'after' } });
    expect(sync).toMatchObject({ status: 200, body: { output: { note: 'after' } } });
  });

  test('a streaming model: output events carry the state with the output so far, while it runs, before completed (native API and Cog)', async () => {
    const streamModel = fixture('stream-model.mjs');
    const hook = await receiver();
    const held = join(scratch, 'gate-native');
    gates.push(held);
    const server = await startServer(streamModel);
    servers.push(server);
    const accepted = await call(
      server.url,
      'POST',
      '/predict',
      { inputs: { prompt: 'Hooked stream words', gate: held } },
      { prefer: 'respond-async', webhook: hook.url },
    );
    expect(accepted.status).toBe(202);
    // The model is held after its first chunk: that chunk's output event must come all the same.
    expect(await eventually(() => hook.received.some((entry) => entry.body.output === 'Hooked'), 10_000)).toBe(true);
    expect(existsSync(held)).toBe(false);
    expect(hook.received.find((entry) => entry.body.output === 'Hooked')!.body).toMatchObject({
      id: accepted.body.id,
      status: 'processing',
      content_type: null,
    });
    writeFileSync(held, '');
    expect(await eventually(() => hook.received.some((entry) => entry.body.status === 'succeeded'), 10_000)).toBe(true);
    const statuses = hook.received.map((entry) => entry.body.status);
    expect(statuses.at(-1)).toBe('succeeded');
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set(['processing']));
    expect(hook.received.at(-1)!.body).toMatchObject({ id: accepted.body.id, output: 'Hooked stream words' });
    // Every intermediate output is a prefix of the final text: the output so far, never a single chunk out of place.
    for (const entry of hook.received.slice(0, -1))
      if (entry.body.output !== null) expect('Hooked stream words'.startsWith(entry.body.output as string)).toBe(true);

    // Cog, asking for output and completed only: no start event, the output so far in Cog's body.
    const cogHook = await receiver();
    const cogHeld = join(scratch, 'gate-cog');
    gates.push(cogHeld);
    const cog = await startServer(streamModel, { MODE: 'cog' });
    servers.push(cog);
    const posted = await call(
      cog.url,
      'POST',
      '/predictions',
      { id: 'hooked-stream', input: { prompt: 'Cog hooked words', gate: cogHeld }, webhook: cogHook.url, webhook_events_filter: ['output', 'completed'] },
      { prefer: 'respond-async' },
    );
    expect(posted.status).toBe(202);
    expect(await eventually(() => cogHook.received.length >= 1, 10_000)).toBe(true);
    expect(cogHook.received[0]!.body).toMatchObject({ id: 'hooked-stream', status: 'processing', output: 'Cog' });
    writeFileSync(cogHeld, '');
    expect(await eventually(() => cogHook.received.some((entry) => entry.body.status === 'succeeded'), 10_000)).toBe(true);
    expect(cogHook.received.at(-1)!.body).toMatchObject({ id: 'hooked-stream', status: 'succeeded', output: 'Cog hooked words' });
  });
});
