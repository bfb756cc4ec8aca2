// A file server for bench/weights.mjs, in a process of its own so that it takes no time from the
// client measured: GET /NAME serves FILE, with 206 answers to `Range: bytes=a-b`, as object
// stores do. Prints its port on stdout. Usage: node bench/range-file-server.mjs FILE
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';

const file = process.argv[2];
const { size, mtimeMs } = statSync(file);
const etag = `"${size}-${Math.trunc(mtimeMs)}"`;
const server = createServer((request, response) => {
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  const end = range && range[2] !== '' ? Math.min(Number(range[2]), size - 1) : size - 1;
  const headers = { 'content-length': end - start + 1, etag, 'accept-ranges': 'bytes' };
  if (range) response.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}` });
  else response.writeHead(200, headers);
  createReadStream(file, { start, end, highWaterMark: 1024 * 1024 }).pipe(response);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
