// The baseline for the large-bodies benchmark: a bare node:http server that reads each body the
// way hand-written Node code usually does, and answers the image's length. JSON (native or
// KServe's): the chunks concatenated, the text parsed, the base64 decoded; multipart: busboy, the file's chunks
// concatenated; KServe binary: the chunks concatenated, the tensor a view of the body.
import { createServer } from 'node:http';
import busboy from 'busboy';

const answer = (response, length) => {
  const body = JSON.stringify({ length });
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
};

const server = createServer((request, response) => {
  if (request.headers['content-type']?.startsWith('multipart/form-data')) {
    const parser = busboy({ headers: request.headers, limits: { fileSize: Number.POSITIVE_INFINITY } });
    let length = 0;
    parser.on('file', (_name, stream) => {
      const chunks = [];
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', () => {
        length = Buffer.concat(chunks).length;
      });
    });
    parser.on('close', () => answer(response, length));
    request.pipe(parser);
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    const headerLength = request.headers['inference-header-content-length'];
    if (headerLength !== undefined) {
      // The JSON header, then one BYTES element: a 4-byte length and the image.
      const start = Number(headerLength);
      answer(response, body.subarray(start + 4).length);
      return;
    }
    const { inputs } = JSON.parse(body.toString());
    // The native {"inputs": {"image": ...}}, or KServe's {"inputs": [{"data": [...]}]}.
    answer(response, Buffer.from(Array.isArray(inputs) ? inputs[0].data[0] : inputs.image, 'base64').length);
  });
});
server.listen(0, '127.0.0.1', () => console.error(`listening on http://127.0.0.1:${server.address().port}`));
