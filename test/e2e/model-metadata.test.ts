// The model, not the runtime, is what users see: its name, version and description (from the
// package.json beside the shim, or startLoop's options, or MODEL_NAME/MODEL_VERSION) on the page,
// in /info, the OpenAPI document, --help and the metrics, run directly and under the supervisor;
// and the output description in the OpenAPI document and KServe's metadata.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exampleShimNamed } from '../helpers/example-shims.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, repoRoot, runScript, type RunOptions } from '../helpers/run-process.js';
import { supervisorBin } from '../helpers/supervisor.js';

const model = fixture('with-package/model.mjs');
const { version: runtimeVersion } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const about = { name: 'sentiment', version: '2.3.0', description: 'Tells whether a sentence is positive or negative.' };

// The verdict's JSON Schema, with a local reference, as schema generators (zod-to-json-schema, pydantic) write them.
const verdictSchema = {
  $defs: { label: { type: 'string', enum: ['positive', 'negative'] } },
  type: 'object',
  required: ['label', 'score'],
  properties: { label: { $ref: '#/$defs/label' }, score: { type: 'number', minimum: 0, maximum: 1 } },
};
const jsonOutput = { output: { type: 'json', schema: verdictSchema, description: 'the verdict' } };

type Way = 'run directly' | 'under the supervisor';
const ways: Way[] = ['run directly', 'under the supervisor'];

function serve(way: Way, env: Record<string, string> = {}, shim = model): Promise<RunningServer> {
  return way === 'run directly' ? startServer(shim, env) : startServer(supervisorBin, env, [shim]);
}

function run(way: Way, options: RunOptions, shim = model) {
  return way === 'run directly' ? runScript(shim, options) : runScript(supervisorBin, { ...options, args: [shim, ...(options.args ?? [])] });
}

const withOptions = (options: object) => ({ FIXTURE_OPTIONS: JSON.stringify(options) });
const getJson = async (url: string) => (await (await request(url)).body.json()) as Record<string, any>;
const getText = async (url: string) => (await request(url)).body.text();

async function validOpenApi(url: string): Promise<Record<string, any>> {
  const document = await getJson(`${url}/openapi.json`);
  const validator = new Validator();
  const result = await validator.validate(document);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  return document;
}

describe.each(ways)('the package.json beside the shim names the model, %s', (way) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve(way, withOptions(jsonOutput));
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("/info: the model's name (without its npm scope), version and description; the runtime's version apart; the output description", async () => {
    const info = await getJson(`${server.url}/info`);
    expect(info.model).toEqual(about);
    expect(info.runtime).toEqual({ name: 'ai-integration', version: runtimeVersion, node: process.version });
    expect(info.output).toEqual(jsonOutput.output);
  });

  test("the OpenAPI info (the /docs header) is the model's, not the runtime's", async () => {
    const document = await validOpenApi(server.url);
    expect(document.info).toEqual({ title: about.name, version: about.version, description: about.description });
    expect(about.version).not.toBe(runtimeVersion);
  });

  test("the OpenAPI /predict answer carries the output's JSON Schema, its local references moved with it", async () => {
    const document = await validOpenApi(server.url);
    const { Prediction, Output } = document.components.schemas;
    expect(Prediction.properties.output).toEqual({ $ref: '#/components/schemas/Output' });
    expect(Prediction.properties.content_type).toEqual({ type: 'string', examples: ['application/json'] });
    expect(Output).toEqual({
      ...verdictSchema,
      description: 'the verdict',
      properties: { ...verdictSchema.properties, label: { $ref: '#/components/schemas/Output/$defs/label' } },
    });
    // The reference resolves within the document.
    expect(Output.$defs.label).toEqual(verdictSchema.$defs.label);
    expect(Object.keys(document.paths['/predict'].post.responses['200'].content)).toEqual(['application/json', 'text/event-stream']);
  });

  test('/metrics: a model_info gauge, 1, labelled with the name and version', async () => {
    const metrics = await getText(`${server.url}/metrics`);
    expect(metrics).toContain('# TYPE model_info gauge');
    expect(metrics).toMatch(/^model_info\{name="sentiment",version="2\.3\.0"\} 1$/m);
  });

  test("the web page shows the model's name, version and description", async () => {
    const html = await getText(`${server.url}/`);
    expect(html).toContain('<title>sentiment</title>');
    expect(html).toContain('2.3.0');
    expect(html).toContain(about.description);
    expect(html).not.toContain(`ai-integration ${runtimeVersion}`);
  });

  test('--help: "Usage: sentiment [options]", the description and the version', async () => {
    const outcome = await run(way, { mode: 'command_line', args: ['--help'] });
    expect(outcome.code, outcome.stderr).toBe(0);
    const help = outcome.stdout.toString('utf8');
    expect(help).toMatch(/^Usage: sentiment \[options\]\n\nTells whether a sentence is positive or negative\.\n\nVersion 2\.3\.0\. Runs the model/);
    expect(help).toContain('--sentence <value>');
  });
});

describe.each(ways)('overrides, %s', (way) => {
  test('MODEL_NAME and MODEL_VERSION win over the package.json everywhere; the description stays', async () => {
    const server = await serve(way, { MODEL_NAME: 'mood', MODEL_VERSION: '7' });
    try {
      expect((await getJson(`${server.url}/info`)).model).toEqual({ name: 'mood', version: '7', description: about.description });
      expect((await validOpenApi(server.url)).info).toMatchObject({ title: 'mood', version: '7' });
      expect(await getText(`${server.url}/metrics`)).toMatch(/^model_info\{name="mood",version="7"\} 1$/m);
    } finally {
      await server.stop();
    }
    const outcome = await run(way, { mode: 'command_line', args: ['--help'], env: { MODEL_NAME: 'mood', MODEL_VERSION: '7' } });
    expect(outcome.stdout.toString('utf8')).toMatch(/^Usage: mood \[options\]\n\nTells whether a sentence is positive or negative\.\n\nVersion 7\./);
  });

  test("startLoop's options win over the package.json, field by field", async () => {
    const server = await serve(way, withOptions({ name: 'verdict', description: 'Reads the mood of a sentence.' }));
    try {
      expect((await getJson(`${server.url}/info`)).model).toEqual({ name: 'verdict', version: '2.3.0', description: 'Reads the mood of a sentence.' });
    } finally {
      await server.stop();
    }
  });
});

describe.each(ways)('an image output, %s', (way) => {
  let server: RunningServer;
  let kserve: RunningServer;
  beforeAll(async () => {
    const options = withOptions({ output: { type: 'image', mediaType: 'image/png', description: 'a swatch of the mood' } });
    [server, kserve] = await Promise.all([serve(way, options), serve(way, { ...options, MODE: 'kserve' })]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), kserve?.stop()]);
  });

  test('OpenAPI: /predict answers the JSON envelope, or the PNG itself when Accept asks; output is a data: URL', async () => {
    const document = await validOpenApi(server.url);
    const ok = document.paths['/predict'].post.responses['200'];
    expect(ok.content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/Prediction' } },
      'image/png': {},
      'text/event-stream': expect.objectContaining({ schema: expect.objectContaining({ type: 'string' }) }),
    });
    expect(ok.description).toBe("the prediction; with Accept: image/png, the result's bytes alone (timings in X-Predict-Time-Ms and X-Queue-Time-Ms)");
    expect(document.components.schemas.Prediction.properties.output).toEqual({
      type: 'string',
      format: 'uri',
      description: 'a swatch of the mood (the image/png bytes as a data: URL)',
    });
    expect(document.components.schemas.Output).toBeUndefined();
    // What the document promises is what the service does.
    const raw = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'image/png' },
      body: JSON.stringify({ inputs: { kind: 'image' } }),
    });
    expect(raw.headers['content-type']).toBe('image/png');
    expect((await sharp(Buffer.from(await raw.body.arrayBuffer())).metadata()).format).toBe('png');
  });

  test("KServe's model metadata gives the output tensor's content type", async () => {
    const metadata = await getJson(`${kserve.url}/v2/models/sentiment`);
    expect(metadata).toMatchObject({ name: 'sentiment', versions: ['2.3.0'] });
    expect(metadata.outputs).toEqual([{ name: 'output', datatype: 'BYTES', shape: [-1], parameters: { content_type: 'image/png' } }]);
    expect(await getText(`${kserve.url}/metrics`)).toMatch(/^model_info\{name="sentiment",version="2\.3\.0"\} 1$/m);
  });
});

describe('without an output description', () => {
  let server: RunningServer;
  let kserve: RunningServer;
  beforeAll(async () => {
    [server, kserve] = await Promise.all([serve('run directly'), serve('run directly', { MODE: 'kserve' })]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), kserve?.stop()]);
  });

  test("the OpenAPI output stays generic, /info has none, KServe's output has no content type", async () => {
    const document = await validOpenApi(server.url);
    expect(document.components.schemas.Prediction.properties.output).toEqual({ description: 'parsed JSON, text, or a data: URL for binary data' });
    expect(document.components.schemas.Prediction.properties.content_type).toEqual({ type: 'string' });
    expect(Object.keys(document.paths['/predict'].post.responses['200'].content)).toEqual(['application/json', 'text/event-stream']);
    expect(await getJson(`${server.url}/info`)).not.toHaveProperty('output');
    expect((await getJson(`${kserve.url}/v2/models/sentiment`)).outputs).toEqual([{ name: 'output', datatype: 'BYTES', shape: [-1] }]);
  });

  test('the result helpers answer through HTTP as hand-written results would', async () => {
    const predict = async (kind: string) => {
      const response = await request(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { kind } }),
      });
      return { status: response.statusCode, body: (await response.body.json()) as Record<string, any> };
    };
    expect(await predict('json')).toMatchObject({ status: 200, body: { content_type: 'application/json', output: { label: 'positive', score: 0.9 } } });
    expect(await predict('text')).toMatchObject({ status: 200, body: { content_type: 'text/plain; charset=utf-8', output: 'positive' } });
    expect(await predict('file')).toMatchObject({
      status: 200,
      body: {
        content_type: 'application/vnd.acme.label',
        output: `data:application/vnd.acme.label;base64,${Buffer.from('label,positive\n').toString('base64')}`,
      },
    });
    expect(await predict('image')).toMatchObject({
      status: 200,
      body: { content_type: 'image/png', output: expect.stringMatching(/^data:image\/png;base64,iVBORw0KGgo/) },
    });
    expect(await predict('failure')).toMatchObject({
      status: 500,
      body: { status: 'failed', error: { code: 'AI_ERR_MODEL_FAILED', message: 'the model reported a failure: the sentence is empty' } },
    });
  });
});

describe.each(ways)('a bad output description is refused at start-up, %s', (way) => {
  test('exit code 3 and one line naming the key, no stack, no retries', async () => {
    const outcome = await run(way, { mode: 'test_inputs_dict_json', stdin: '{}', env: withOptions({ output: { type: 'image', mediaType: 'png' } }) });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toBe('error: invalid output description: output.mediaType: "png" is not a media type such as \'image/png\'\n');
    expect(outcome.stdout.length).toBe(0);
  });
});

describe.each(ways)('a model folder outside this repository, %s', (way) => {
  // A model's own folder, as `init` writes one, with the runtime imported by its path.
  const folder = (manifest: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'model-folder-'));
    writeFileSync(join(dir, 'package.json'), manifest);
    writeFileSync(
      join(dir, 'shim.mjs'),
      `import { startLoop, text } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist/index.js')).href)};\n` +
        "startLoop((inputs) => text(inputs.word.toUpperCase()), { word: { type: 'text' } });\n",
    );
    return join(dir, 'shim.mjs');
  };

  test('its package.json names it', async () => {
    const shim = folder(JSON.stringify({ name: 'shout', version: '0.0.1', description: 'Shouts a word.' }));
    const outcome = await run(way, { mode: 'command_line', args: ['--help'] }, shim);
    expect(outcome.stdout.toString('utf8')).toMatch(/^Usage: shout \[options\]\n\nShouts a word\.\n\nVersion 0\.0\.1\./);
    const answer = await run(way, { mode: 'test_inputs_dict_json', stdin: '{"word": "hey"}' }, shim);
    expect(answer.stdout.toString('utf8')).toBe('HEY');
  });

  test('a package.json that is not JSON: exit code 3, one line naming the file', async () => {
    const shim = folder('{ "name": "shout", }');
    const outcome = await run(way, { mode: 'test_inputs_dict_json', stdin: '{"word": "hey"}' }, shim);
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toMatch(
      new RegExp(
        `^error: cannot read the model's name and version from ${join(shim, '..', 'package.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it is not valid JSON \\(.+\\); fix it, or pass name, version and description to startLoop\\n$`,
      ),
    );
  });
});

describe('the example shims name themselves, not the runtime whose folder they live in', () => {
  test.each([
    ['image-stats', "Measures a photo: its size, each channel's mean and spread"],
    ['keywords', 'Finds the most frequent words of a text'],
  ])('%s --help', async (name, description) => {
    const outcome = await runScript(exampleShimNamed(name), { mode: 'command_line', args: ['--help'] });
    expect(outcome.code, outcome.stderr).toBe(0);
    const help = outcome.stdout.toString('utf8');
    expect(help.startsWith(`Usage: ${name} [options]\n\n${description}`)).toBe(true);
    expect(help).toContain('Version 1.');
  });

  test('the pull-style example describes its image output in its OpenAPI document', async () => {
    const server = await startServer(exampleShimNamed('thumbnail-pull'));
    try {
      const document = await validOpenApi(server.url);
      expect(document.info).toMatchObject({ title: 'thumbnail', version: '1' });
      expect(Object.keys(document.paths['/predict'].post.responses['200'].content)).toEqual(['application/json', 'image/*', 'text/event-stream']);
    } finally {
      await server.stop();
    }
  });
});
