// The worker's stderr while it starts (src/supervisor/start-output.ts): a retry's output that
// repeats the last failed start's is held and dropped; anything else passes through whole.
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { StartOutput } from '../../src/supervisor/start-output.js';

function sink() {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}
const stack = 'Error: weights.onnx: no such file\n    at load (shim.mjs:2:9)\n';

describe('StartOutput', () => {
  test('a first start passes through as it comes, and is kept to compare with the next', () => {
    const { out, text } = sink();
    const first = new StartOutput(out, undefined);
    first.write(Buffer.from('loading...\n'));
    expect(text()).toBe('loading...\n');
    first.write(Buffer.from(stack));
    expect(first.failed()).toEqual({ outcome: 'shown', output: Buffer.from(`loading...\n${stack}`) });
  });

  test('a retry that repeats the failed start word for word, in other chunks, is dropped', () => {
    const { out, text } = sink();
    const previous = Buffer.from(`loading...\n${stack}`);
    const retry = new StartOutput(out, previous);
    retry.write(previous.subarray(0, 5));
    retry.write(previous.subarray(5, 30));
    retry.write(previous.subarray(30));
    expect(text()).toBe('');
    expect(retry.failed()).toEqual({ outcome: 'repeated', output: previous });
  });

  test('news in a retry is shown at once, with what was held before it', () => {
    const { out, text } = sink();
    const retry = new StartOutput(out, Buffer.from(`loading...\n${stack}`));
    retry.write(Buffer.from('loading...\n'));
    expect(text()).toBe('');
    retry.write(Buffer.from('Error: out of memory\n'));
    expect(text()).toBe('loading...\nError: out of memory\n');
    expect(retry.failed().outcome).toBe('shown');
  });

  test('a retry that stops short of the last output is shown when it fails', () => {
    const { out, text } = sink();
    const retry = new StartOutput(out, Buffer.from(`loading...\n${stack}`));
    retry.write(Buffer.from('loading...\n'));
    expect(retry.failed().outcome).toBe('shown');
    expect(text()).toBe('loading...\n');
  });

  test('a retry that loads shows what it held, then passes everything through', () => {
    const { out, text } = sink();
    const retry = new StartOutput(out, Buffer.from(`loading...\n${stack}`));
    retry.write(Buffer.from('loading...\n'));
    retry.ready();
    expect(text()).toBe('loading...\n');
    retry.write(Buffer.from('served one\n'));
    expect(text()).toBe('loading...\nserved one\n');
  });
});
