// The streaming benchmark's load generator, in a process of its own so that it takes no CPU from
// the server's event loop: CLIENTS clients, each sending REQUESTS chat completions with
// `stream: true` one after the other over a keep-alive connection. Prints JSON: every request's
// time to its first token (ms, from sending the request to the first content chunk), the tokens
// received and the wall time.
import { Agent, request } from 'node:http';

const [url, clients, requests] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const body = JSON.stringify({ model: 'tokens', messages: [{ role: 'user', content: 'go' }], stream: true });
const agent = new Agent({ keepAlive: true, maxSockets: clients });
const marker = '"delta":{"content":';

function one() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let first;
    let tokens = 0;
    let tail = '';
    const outgoing = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`));
        response.setEncoding('utf8');
        response.on('data', (text) => {
          const seen = tail + text;
          let at = seen.indexOf(marker);
          while (at !== -1) {
            first ??= performance.now() - started;
            tokens++;
            at = seen.indexOf(marker, at + marker.length);
          }
          tail = seen.slice(-marker.length + 1);
        });
        response.on('end', () => resolve({ firstMs: first, tokens }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const started = performance.now();
const results = [];
await Promise.all(
  Array.from({ length: clients }, async () => {
    for (let index = 0; index < requests; index++) results.push(await one());
  }),
);
const wallMs = performance.now() - started;
agent.destroy();
process.stdout.write(
  JSON.stringify({ wallMs, firsts: results.map((result) => result.firstMs), tokens: results.reduce((sum, result) => sum + result.tokens, 0) }),
);
