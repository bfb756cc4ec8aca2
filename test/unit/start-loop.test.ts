// startLoop in this process, with injected stdin, stdout, stderr and exit: the CLI behaviour is
// tested without killing the test process.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { ExitCode, errorTable } from '../../src/errors.js';
import { startLoop } from '../../src/start-loop.js';
import type { InferenceResult } from '../../src/types.js';

function capture() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function runInProcess(mode: string | undefined, stdin: string, infer: (inputs: { word: string }) => InferenceResult | Promise<InferenceResult>) {
  const stdout = capture();
  const stderr = capture();
  let exitCode: number | undefined;
  await startLoop(
    infer,
    { word: { type: 'text' } },
    {
      env: mode === undefined ? {} : { MODE: mode },
      argv: [],
      stdin: Readable.from([Buffer.from(stdin)]),
      stdout: stdout.stream,
      stderr: stderr.stream,
      exit: (code) => {
        exitCode = code;
      },
    },
  );
  return { exitCode, stdout: stdout.text(), stderr: stderr.text() };
}

describe('startLoop with injected process parts', () => {
  test("runs the mode and exits through the injected exit with the mode's code", async () => {
    const outcome = await runInProcess('test_inputs_dict_json', '{"word": "hi"}', async (inputs) => ({
      'content-type': 'text/plain',
      data: inputs.word.repeat(2),
      success: true,
    }));
    expect(outcome).toMatchObject({ exitCode: 0, stdout: 'hihi' });
  });

  test('a throw exits with the documented "threw" code', async () => {
    const outcome = await runInProcess('test_inputs_dict_json', '{"word": "hi"}', () => {
      throw new RangeError('tensor shape mismatch');
    });
    expect(outcome.exitCode).toBe(ExitCode.inferenceThrew);
    expect(outcome.stderr).toContain('RangeError: tensor shape mismatch');
  });

  test('the options win over the environment', async () => {
    const stdout = capture();
    let exitCode: number | undefined;
    await startLoop(
      () => ({ 'content-type': 'text/plain', data: 'x', success: true }),
      { word: { type: 'text', default: 'w' } },
      {
        mode: 'test_model_integration',
        selfTestRuns: 1,
        env: { MODE: 'no_such_mode', SELF_TEST_RUNS: 'not a number' },
        stdout: stdout.stream,
        stderr: new PassThrough(),
        exit: (code) => {
          exitCode = code;
        },
      },
    );
    expect(exitCode).toBe(0);
    expect(stdout.text()).toBe('x');
  });
});

describe('the error table', () => {
  test('every code has an exit code from ExitCode and an HTTP status', () => {
    const exitCodes = new Set<number>(Object.values(ExitCode));
    for (const [code, entry] of Object.entries(errorTable)) {
      expect(code).toMatch(/^AI_ERR_[A-Z_]+$/);
      expect(exitCodes.has(entry.exitCode)).toBe(true);
      expect(entry.httpStatus).toBeGreaterThanOrEqual(400);
    }
  });
});

describe('settings', () => {
  test('a bad option from code or the environment is a configuration error (exit 3) naming it', async () => {
    const { readSettings, defaultBufferedBytes } = await import('../../src/settings.js');
    expect(() => readSettings({ selfTestRuns: 0 }, {})).toThrow('startLoop option selfTestRuns must be a positive integer, got 0');
    expect(() => readSettings({}, { MAX_INPUT_BYTES: '10MB' })).toThrow('MAX_INPUT_BYTES="10MB" is not a positive integer');
    expect(() => readSettings({}, { STRICT_INPUTS: 'sometimes' })).toThrow('STRICT_INPUTS="sometimes" is not true or false');
    expect(readSettings({}, { SELF_TEST_RUNS: ' 7 ', STRICT_INPUTS: 'YES' })).toMatchObject({ selfTestRuns: 7, maxInputBytes: 104857600, strictInputs: true });
    expect(readSettings({ http: { concurrency: 2 } }, { PORT: '8080', MAX_QUEUE: '0' }).http).toEqual({
      port: 8080,
      host: '0.0.0.0',
      concurrency: 2,
      maxQueue: 0,
      inferenceTimeoutMs: 300000,
      shutdownTimeoutMs: 8000,
      maxFiles: 16,
      maxFields: 256,
      maxParts: 512,
      maxBufferedBytes: defaultBufferedBytes(104857600),
      maxConcurrentUploads: 32,
      maxConnections: 1024,
      headersTimeoutMs: 20000,
      requestTimeoutMs: 300000,
      keepAliveTimeoutMs: 5000,
      bodyIdleTimeoutMs: 30000,
      minBodyBytesPerSecond: 1024,
      bodyRateWindowMs: 10000,
    });
    expect(() => readSettings({}, { PORT: '70000' })).toThrow('the port 70000 is not between 0 and 65535');
    expect(() => readSettings({}, { CONCURRENCY: '0' })).toThrow('CONCURRENCY="0" is not a positive integer');
  });

  test('limits the runtime cannot honour are refused at start-up, with the maximum', async () => {
    const { readSettings, readSupervisorLimits, largestInputBytes } = await import('../../src/settings.js');
    // Node's timers turn a delay past 2^31-1 ms into 1 ms.
    expect(() => readSettings({}, { SHUTDOWN_TIMEOUT_MS: '3000000000' })).toThrow(
      'SHUTDOWN_TIMEOUT_MS=3000000000 is more than the runtime can honour; the maximum is 2147483647',
    );
    expect(() => readSettings({}, { INFERENCE_TIMEOUT_MS: '2147483648' })).toThrow(
      'INFERENCE_TIMEOUT_MS=2147483648 is more than the runtime can honour; the maximum is 2147483647',
    );
    expect(() => readSettings({ http: { headersTimeoutMs: 2 ** 31 } }, {})).toThrow(
      'startLoop option http.headersTimeoutMs must be a positive integer of at most 2147483647, got 2147483648',
    );
    expect(() => readSupervisorLimits({ WORKER_START_TIMEOUT_MS: '9999999999' })).toThrow(
      'WORKER_START_TIMEOUT_MS=9999999999 is more than the runtime can honour; the maximum is 2147483647',
    );
    // A JSON body or stdin becomes one string, and V8 strings stop at about 512 MB.
    expect(() => readSettings({}, { MAX_INPUT_BYTES: String(600 * 1024 * 1024) })).toThrow(
      `MAX_INPUT_BYTES=629145600 is more than the runtime can honour; the maximum is ${largestInputBytes}`,
    );
    expect(readSettings({}, { MAX_INPUT_BYTES: String(largestInputBytes) }).maxInputBytes).toBe(largestInputBytes);
    expect(() => readSettings({}, { MAX_INPUT_BYTES: '2000000', MAX_BUFFERED_BYTES: '1000000' })).toThrow(
      'MAX_BUFFERED_BYTES (1000000) is smaller than MAX_INPUT_BYTES (2000000)',
    );
  });
});
