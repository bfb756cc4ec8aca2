// The baseline for the HTTP benchmark: a bare node:http server with busboy that does the same
// I/O as MODE=http (reads the multipart or JSON body, decodes the image bytes) and answers the
// same bytes, given in ANSWERS as {"/": body, "/predict": body}. EXTRA_WORK_US adds that many
// microseconds of pure JavaScript to each request (bench/http-budget.mjs: what a framework may
// spend per request for a given share of this server's throughput).
import { createServer } from 'node:http';
import busboy from 'busboy';

const answers = JSON.parse(process.env.ANSWERS);
const extraWorkMs = Number(process.env.EXTRA_WORK_US ?? 0) / 1000;
const work = () => {
  const until = performance.now() + extraWorkMs;
  while (performance.now() < until);
};
const send = (response, path) => {
  if (extraWorkMs > 0) work();
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answers[path]) });
  response.end(answers[path]);
};

const server = createServer((request, response) => {
  const path = new URL(request.url, 'http://localhost').pathname;
  if (request.headers['content-type']?.startsWith('multipart/form-data')) {
    const parser = busboy({ headers: request.headers });
    const chunks = [];
    parser.on('file', (_name, stream) => stream.on('data', (chunk) => chunks.push(chunk)));
    parser.on('close', () => {
      Buffer.concat(chunks);
      send(response, path);
    });
    request.pipe(parser);
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    Buffer.from(JSON.parse(Buffer.concat(chunks).toString()).inputs.image, 'base64');
    send(response, path);
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.stderr.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
