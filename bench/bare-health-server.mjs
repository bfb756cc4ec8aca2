// The baseline for the start-up benchmark (bench/startup.mjs): a bare node:http server that
// answers 200 on every route, printing "listening on URL" as MODE=http does.
import { createServer } from 'node:http';

const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end('{"status":"ready"}');
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () =>
  process.stderr.write(`listening on http://127.0.0.1:${server.address().port}\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
