// Two `Webhook` header lines: node:http joins them with ", " into one URL that parses (the second
// URL lands in the first one's path), so the joined URL was called. The request is refused with
// 422 naming the header, before the model runs, and no URL is called.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';
import { RawConnection } from '../helpers/raw-connection.js';

let service: InProcessService;
let receiver: Server;
let hook: string;
const calls: string[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    calls.push(request.url ?? '');
    response.writeHead(200).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  service = await startInProcess({ mode: 'http', model: 'http-model.mjs' });
});

afterAll(async () => {
  await service.close();
  receiver.closeAllConnections();
  receiver.close();
});

async function predictWith(webhookLines: string[]): Promise<{ status: number; body: any }> {
  const connection = await RawConnection.open(service.url);
  const body = JSON.stringify({ inputs: { action: 'text', note: 'webhook' } });
  const head = ['POST /predict HTTP/1.1', 'host: localhost', 'content-type: application/json', `content-length: ${Buffer.byteLength(body)}`];
  connection.write([...head, ...webhookLines.map((url) => `webhook: ${url}`), 'connection: close', '', body].join('\r\n'));
  try {
    return await connection.jsonResponse();
  } finally {
    connection.destroy();
  }
}

test('two Webhook headers: 422 naming the header, and no webhook is called', async () => {
  const answer = await predictWith([`${hook}/first`, `${hook}/second`]);
  expect(answer.status).toBe(422);
  expect(answer.body.error).toMatchObject({ code: 'AI_ERR_INVALID_INPUT', field: 'Webhook header' });
  expect(answer.body.error.message).toBe('Webhook header: sent 2 times; send one webhook URL');
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(calls).toEqual([]);
});

test('one Webhook header is called, with the URL as sent', async () => {
  const answer = await predictWith([`${hook}/only`]);
  expect(answer.status).toBe(200);
  for (let waited = 0; !calls.includes('/only') && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(calls).toContain('/only');
});
