// The store of the output-upload benchmark, in its own process: it takes each PUT's body (read
// and dropped, counted) and answers 201 with the file's Location, as an object store does.
import { createServer } from 'node:http';

let stored = 0;
const server = createServer((request, response) => {
  if (request.method !== 'PUT') {
    response.writeHead(405, { allow: 'PUT' }).end();
    return;
  }
  request.on('data', (chunk) => (stored += chunk.length));
  request.on('end', () => response.writeHead(201, { location: `http://store.example${request.url}` }).end());
});
server.listen(0, '127.0.0.1', () => process.stderr.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => {
  process.stderr.write(`stored ${stored} bytes\n`);
  process.exit(0);
});
