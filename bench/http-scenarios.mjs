// The two requests the HTTP benchmarks send, with their wrk scripts: POST / with a 5 KB JPEG
// (multipart), and POST /predict with JSON (the same JPEG as base64).
import { benchJpeg } from './bench-jpeg.mjs';
import { wrkScript } from './wrk.mjs';

export const jpeg = benchJpeg;
const boundary = 'benchboundary';
const multipart = Buffer.concat([
  Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
  jpeg,
  Buffer.from(`\r\n--${boundary}--\r\n`),
]);
const json = JSON.stringify({ inputs: { image: jpeg.toString('base64') } });

export const scenarios = [
  { name: 'POST / (multipart, 5 KB JPEG)', path: '/', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: multipart },
  { name: 'POST /predict (JSON)', path: '/predict', headers: { 'content-type': 'application/json' }, body: json },
];
for (const scenario of scenarios) scenario.script = wrkScript({ headers: scenario.headers, body: scenario.body });

/** What a server at `url` answers to each scenario, by path: the bare server is given these to answer the same bytes. */
export async function answersOf(url) {
  const answers = {};
  for (const scenario of scenarios) {
    const response = await fetch(`${url}${scenario.path}`, { method: 'POST', headers: scenario.headers, body: scenario.body });
    answers[scenario.path] = await response.text();
  }
  return answers;
}
