// Input values nested past MAX_INPUT_DEPTH are refused "with a 422 naming the field, the same limit
// in every mode" (docs/reference/reliability.md): input-depth.test.ts covers the native HTTP API, stdin, argv,
// multipart and pickle; here the protocol modes that share the HTTP core, each through its own
// request shape, with its own client-error status and error body (KServe answers the native 422
// as 400, as the Open Inference Protocol does; Cog answers 422 in its `detail` list; SageMaker
// and Vertex answer 422). Each runs directly and under the supervisor, whose structured-clone
// send to the model worker would overflow the stack on such a value: the refusal must come first,
// the service keep serving, and the worker never be replaced. A value exactly at the default
// limit (128, src/settings.ts) is served.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makePng } from '../helpers/images.js';
import { startServer, stopOrKill, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { childPids, supervisorBin } from '../helpers/supervisor.js';

const httpModel = fixture('http-model.mjs');
const echoModel = fixture('echo-model.mjs');
const cogModel = fixture('cog-model.mjs');

const defaultLimit = 128; // MAX_INPUT_DEPTH's default (src/settings.ts, defaultInputDepth)
const nestedJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** The refusal's text after the field's name, as src/input-depth.ts words it. */
const tooDeep = (depth: number, limit = defaultLimit) => `nests ${depth} levels of arrays and objects, deeper than the limit of ${limit} (MAX_INPUT_DEPTH)`;

let png: Buffer;
beforeAll(async () => {
  png = await makePng(6, 4);
});

interface Answer {
  status: number;
  body: any;
  text: string;
}

/** POSTs a JSON text (as application/json unless `type` says); the answer's status, text and parsed JSON (when it is application/json). */
async function postJsonText(url: string, body: string, type = 'application/json'): Promise<Answer> {
  const response = await request(url, { method: 'POST', body, headers: { 'content-type': type } });
  const text = await response.body.text();
  const mediaType = String(response.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim();
  return { status: response.statusCode, text, body: mediaType === 'application/json' && text !== '' ? JSON.parse(text) : undefined };
}

interface ModeCase {
  name: string;
  script: string;
  env: Record<string, string>;
  /** The mode's status for an input the schema refuses. */
  status: 400 | 422;
  /** Sends one request in which one input (tagged with `note`) nests `depth` levels. */
  send: (url: string, depth: number, note: string) => Promise<Answer>;
  /** The refusal's whole error body, for the nested input at `depth` (limit `limit`). */
  refusal: (depth: number, limit?: number) => unknown;
  /** Checks that the request tagged `note` was served, with its nested value as sent (`depth` levels). */
  served: (answer: Answer, note: string, depth: number) => void;
}

/** The depth of a value of nested arrays (`[[[]]]` is 3), measured without recursion. */
function arrayDepth(value: unknown): number {
  let depth = 0;
  for (let node = value; Array.isArray(node); node = node[0]) depth++;
  return depth;
}

const modes: ModeCase[] = [
  {
    // A json input arrives as a BYTES tensor whose element is JSON text, parsed before the model sees it.
    name: 'MODE=kserve, V2 infer: a json input tensor (BYTES) whose element is the nested JSON text',
    script: echoModel,
    env: { MODE: 'kserve' },
    status: 400,
    send: (url, depth, note) =>
      postJsonText(
        `${url}/v2/models/echo-model/infer`,
        JSON.stringify({
          inputs: [
            { name: 'image', shape: [1], datatype: 'BYTES', data: [png.toString('base64')] },
            { name: 'prompt', shape: [1], datatype: 'BYTES', data: [note] },
            { name: 'config', shape: [1], datatype: 'BYTES', data: [nestedJson(depth)] },
          ],
        }),
      ),
    refusal: (depth, limit) => ({ error: `config: ${tooDeep(depth, limit)}` }),
    served: (answer, note, depth) => {
      expect(answer.status, answer.text.slice(0, 500)).toBe(200);
      const echoed = JSON.parse(answer.body.outputs[0].data[0]);
      expect(echoed.inputs.prompt).toBe(note);
      expect(arrayDepth(echoed.inputs.config)).toBe(depth);
    },
  },
  {
    // V1: a json input takes the JSON value as it is, inside the instance.
    name: 'MODE=kserve, V1 predict: an instance whose json input is the nested value',
    script: echoModel,
    env: { MODE: 'kserve' },
    status: 400,
    send: (url, depth, note) =>
      postJsonText(
        `${url}/v1/models/echo-model:predict`,
        `{"instances": [{"image": {"b64": "${png.toString('base64')}"}, "prompt": ${JSON.stringify(note)}, "config": ${nestedJson(depth)}}]}`,
      ),
    refusal: (depth, limit) => ({ error: `config: ${tooDeep(depth, limit)}` }),
    served: (answer, note, depth) => {
      expect(answer.status, answer.text.slice(0, 500)).toBe(200);
      expect(answer.body.predictions[0].inputs.prompt).toBe(note);
      expect(arrayDepth(answer.body.predictions[0].inputs.config)).toBe(depth);
    },
  },
  {
    // Cog drops inputs the schema does not list, so the nested value is the json input `options`.
    name: 'MODE=cog, POST /predictions: `input` with a json field',
    script: cogModel,
    env: { MODE: 'cog' },
    status: 422,
    send: (url, depth, note) => postJsonText(`${url}/predictions`, `{"input": {"note": ${JSON.stringify(note)}, "options": ${nestedJson(depth)}}}`),
    refusal: (depth, limit) => ({ detail: [{ loc: ['body', 'input', 'options'], msg: tooDeep(depth, limit), type: 'value_error' }] }),
    served: (answer, note, depth) => {
      expect(answer.status, answer.text.slice(0, 500)).toBe(200);
      expect(answer.body).toMatchObject({ status: 'succeeded', error: null, output: { note } });
      expect(arrayDepth(answer.body.output.options)).toBe(depth);
    },
  },
  {
    // Inputs the schema does not list pass through to the model (as in the native API), and are measured too.
    name: 'MODE=sagemaker, POST /invocations: an application/json inputs object',
    script: httpModel,
    env: { MODE: 'sagemaker' },
    status: 422,
    send: (url, depth, note) => postJsonText(`${url}/invocations`, `{"note": ${JSON.stringify(note)}, "x": ${nestedJson(depth)}}`),
    refusal: (depth, limit) => ({ error: `x: ${tooDeep(depth, limit)}`, code: 'AI_ERR_INVALID_INPUT', field: 'x' }),
    served: (answer, note) => {
      expect(answer.status, answer.text.slice(0, 500)).toBe(200);
      expect(answer.body).toEqual({ received: { image: null, strength: 0.5, flag: false, note } });
    },
  },
  {
    name: 'MODE=vertex, POST /predict: an instance with a nested value',
    script: httpModel,
    env: { MODE: 'vertex' },
    status: 422,
    send: (url, depth, note) => postJsonText(`${url}/predict`, `{"instances": [{"note": ${JSON.stringify(note)}, "x": ${nestedJson(depth)}}]}`),
    refusal: (depth, limit) => ({ error: `instances[0].x: ${tooDeep(depth, limit)}` }),
    served: (answer, note) => {
      expect(answer.status, answer.text.slice(0, 500)).toBe(200);
      expect(answer.body).toEqual({ predictions: [{ received: { image: null, strength: 0.5, flag: false, note } }] });
    },
  },
];

const runs = [
  { how: 'run directly (node SHIM)', supervised: false },
  { how: 'under the supervisor (node dist/cli.js SHIM)', supervised: true },
];

describe.each(modes.flatMap((mode) => runs.map((run) => ({ ...mode, ...run }))))(
  '$name, $how',
  ({ script, env, status, send, refusal, served, supervised }) => {
    let server: RunningServer;
    beforeAll(async () => {
      server = supervised ? await startServer(supervisorBin, env, [script]) : await startServer(script, env);
    });
    afterAll(async () => {
      await stopOrKill(server);
    });

    test(`a value nested 10,000 levels is ${status} naming the field and the limit; the next request is served by the same process`, async () => {
      const workersBefore = childPids(server.pid);
      const refused = await send(server.url, 10_000, 'deep');
      expect(refused.status, refused.text.slice(0, 500)).toBe(status);
      expect(refused.body).toEqual(refusal(10_000));
      served(await send(server.url, 1, 'after the deep one'), 'after the deep one', 1);
      expect(server.child.exitCode).toBeNull();
      if (supervised) {
        expect(workersBefore).toHaveLength(1);
        expect(childPids(server.pid)).toEqual(workersBefore); // the same worker: never restarted, never sent the value
      }
    });

    test(`exactly the default limit (${defaultLimit} levels) is served; one more is ${status}`, async () => {
      served(await send(server.url, defaultLimit, 'at the limit'), 'at the limit', defaultLimit);
      const past = await send(server.url, defaultLimit + 1, 'past the limit');
      expect(past.status, past.text.slice(0, 500)).toBe(status);
      expect(past.body).toEqual(refusal(defaultLimit + 1));
    });
  },
);

describe('the same limit in each protocol mode: MAX_INPUT_DEPTH sets it, under the supervisor', () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.splice(0).map((server) => stopOrKill(server)));
  });

  test.each(modes.map((mode) => [mode.name, mode] as const))(
    '%s: MAX_INPUT_DEPTH=300 serves 300 levels and refuses 301, naming 300',
    async (_name, { script, env, status, send, refusal, served }) => {
      const server = await startServer(supervisorBin, { ...env, MAX_INPUT_DEPTH: '300' }, [script]);
      servers.push(server);
      served(await send(server.url, 300, 'at 300'), 'at 300', 300);
      const past = await send(server.url, 301, 'past 300');
      expect(past.status, past.text.slice(0, 500)).toBe(status);
      expect(past.body).toEqual(refusal(301, 300));
    },
  );
});

/** Inferences run so far, all outcomes, from /metrics. */
async function inferenceCount(url: string): Promise<number> {
  const metrics = await (await request(`${url}/metrics`)).body.text();
  return [...metrics.matchAll(/^inferences_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('MODE=sagemaker, JSON Lines under the supervisor: a nested value on one line fails the request naming the line and the field, before any line runs', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(supervisorBin, { MODE: 'sagemaker' }, [httpModel]);
  });
  afterAll(async () => {
    await stopOrKill(server);
  });

  test('line 2 nested 10,000 levels: 422 "line 2: x: ..."; the next request is served', async () => {
    const workersBefore = childPids(server.pid);
    const inferencesBefore = await inferenceCount(server.url);
    const lines = ['{"note": "one"}', `{"note": "two", "x": ${nestedJson(10_000)}}`, '{"note": "three"}'].join('\n');
    const refused = await postJsonText(`${server.url}/invocations`, lines, 'application/jsonlines');
    expect(refused.status, refused.text.slice(0, 500)).toBe(422);
    expect(refused.body).toEqual({ error: `line 2: x: ${tooDeep(10_000)}`, code: 'AI_ERR_INVALID_INPUT', field: 'x' });
    expect(await inferenceCount(server.url)).toBe(inferencesBefore); // line 1 did not run either
    const atLimit = ['{"note": "one"}', `{"note": "two", "x": ${nestedJson(defaultLimit)}}`].join('\n');
    const served = await postJsonText(`${server.url}/invocations`, atLimit, 'application/jsonlines');
    expect(served.status, served.text.slice(0, 500)).toBe(200);
    expect(served.text.split('\n').map((line) => JSON.parse(line).received.note)).toEqual(['one', 'two']);
    expect(childPids(server.pid)).toEqual(workersBefore);
  });
});
