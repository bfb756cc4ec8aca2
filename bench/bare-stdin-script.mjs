// The baseline for the start-up benchmark (bench/startup.mjs): a bare node script that does a
// stdin mode's I/O, with no runtime: reads a JSON object from stdin, decodes its base64 image,
// and writes a JSON result to stdout.
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const image = Buffer.from(JSON.parse(Buffer.concat(chunks).toString('utf8')).image, 'base64');
process.stdout.write(`${JSON.stringify({ label: 'cat', score: 0.98, bytes: image.length }, null, 2)}\n`);
