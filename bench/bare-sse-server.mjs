// The streaming benchmark's baseline: a bare node:http server that answers every POST with the
// same server-sent events MODE=openai sends for the token model (a role chunk, TOKENS token
// chunks, the finish, [DONE]), each token taken from an async generator as a model's would be,
// and nothing else: no body read beyond draining it, no queue, no checks.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

const count = Number(process.env.TOKENS ?? 1000);
const tokens = Array.from({ length: count }, (_, index) => ` t${index}`);

async function* generate() {
  for (const token of tokens) yield token;
}

const server = createServer(async (request, response) => {
  request.resume();
  await new Promise((resolve) => request.once('end', resolve));
  const head = `{"id":"chatcmpl-${randomUUID()}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":"tokens","choices":[`;
  const choice = (delta, finish) => `data: ${head}{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
  response.write(choice('{"role":"assistant","content":"","refusal":null}', 'null'));
  for await (const token of generate()) response.write(choice(`{"content":${JSON.stringify(token)}}`, 'null'));
  response.write(choice('{}', '"stop"'));
  response.end('data: [DONE]\n\n');
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  process.stderr.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
