// The built package, imported both ways a user would: ESM `import` and CommonJS `require`.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { repoRoot } from './helpers/run-process.js';

const require = createRequire(import.meta.url);

describe('the built package', () => {
  test('import and require expose the same public API, and it only changes on purpose', async () => {
    const esm = await import('ai-integration');
    const cjs = require('ai-integration') as Record<string, unknown>;
    const esmNames = Object.keys(esm)
      .filter((name) => name !== 'default')
      .sort();
    expect(Object.keys(cjs).sort()).toEqual(esmNames);
    expect(esmNames).toMatchInlineSnapshot(`
      [
        "AiIntegrationError",
        "Cancellation",
        "ExitCode",
        "InferenceThrewError",
        "InvalidInputError",
        "InvalidSchemaError",
        "PickleError",
        "chatInputs",
        "chatModel",
        "checkResult",
        "completionInputs",
        "completionModel",
        "convertInputs",
        "defineSchema",
        "embeddingInputs",
        "embeddingModel",
        "environmentVariables",
        "errorTable",
        "failure",
        "file",
        "fileFields",
        "image",
        "inferenceRequests",
        "inputTypes",
        "json",
        "listModes",
        "output",
        "probeOnPort",
        "readPickle",
        "registerMode",
        "startLoop",
        "text",
        "toolCall",
        "validateSchema",
        "weights",
        "weightsDir",
        "weightsPath",
      ]
    `);
    expect(typeof cjs.startLoop).toBe('function');
  });

  test('ai-integration/http exposes the HTTP core for a protocol mode of your own', async () => {
    const http = await import('ai-integration/http');
    expect(
      Object.keys(http)
        .filter((name) => name !== 'default')
        .sort(),
    ).toEqual(['sendJson', 'sendText', 'serveHttp', 'startHttpService']);
  });

  test('ai-integration/webhooks exposes the verify helper for receivers, the same both ways', async () => {
    const webhooks = await import('ai-integration/webhooks');
    const names = Object.keys(webhooks)
      .filter((name) => name !== 'default')
      .sort();
    expect(names).toEqual(['WebhookVerificationError', 'signWebhook', 'verifyWebhook']);
    expect(Object.keys(require('ai-integration/webhooks') as object).sort()).toEqual(names);
  });

  test('a CommonJS shim runs a mode end to end', () => {
    const script = `
      const { startLoop } = require('ai-integration');
      startLoop((inputs) => ({ 'content-type': 'text/plain', data: 'cjs ' + inputs.word, success: true }), { word: { type: 'text' } });
    `;
    const stdout = execFileSync(process.execPath, ['-e', script], {
      cwd: repoRoot,
      env: { ...process.env, MODE: 'test_inputs_dict_json' },
      input: '{"word": "works"}',
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    expect(stdout.toString('utf8')).toBe('cjs works');
  });

  test('package.json: exports map with types first, sideEffects false, ESM and CommonJS entry points', () => {
    const manifest = require('../package.json') as { exports: Record<string, Record<string, Record<string, string>>>; sideEffects: boolean };
    expect(manifest.sideEffects).toBe(false);
    const root = manifest.exports['.']!;
    expect(Object.keys(root)).toEqual(['import', 'require']);
    expect(Object.keys(root.import!)[0]).toBe('types');
    expect(Object.keys(root.require!)[0]).toBe('types');
    expect(root.import!.types).toBe('./dist/index.d.ts');
    expect(root.require!.types).toBe('./dist/index.d.cts');
  });
});
