// The README is the page a newcomer and the npm registry show: it opens with the two commands,
// lists every mode, and keeps every anchor of the longer README it replaced, so that links from
// other pages and issues still land. The reference pages' checks are in docs.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { listModes } from '../src/registry.js';
import { anchorsOf } from './helpers/markdown.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

// The slug of every `##`, `###` and `####` heading of the README before it was split into docs/
// (commit 80c0a26), in GitHub's spelling.
const formerAnchors = [
  'getting-started',
  'the-shim',
  'the-models-name-version-and-description',
  'modes',
  'the-pickle-reader',
  'the-http-mode',
  'bearer-auth-and-the-access-log-every-http-speaking-mode',
  'auth-auth_token',
  'the-access-log',
  'async-predictions-cancel-and-webhooks-native-predict-and-modecog',
  'async-predictions',
  'cancel',
  'model-logs',
  'webhooks',
  'the-kserve-mode-the-open-inference-protocol',
  'the-cog-mode',
  'cloud-platforms',
  'sagemaker',
  'vertex-ai',
  'weights-from-aip_storage_uri',
  'not-supported',
  'azure-machine-learning-and-hugging-face-inference-endpoints',
  'aws-lambda',
  'restarting-the-model-in-place-the-supervisor',
  'several-workers-and-dynamic-batching',
  'workersn-several-model-processes',
  'dynamic-batching',
  'the-queue-mode-a-worker-of-a-bullmq-queue',
  'the-gateway-the-same-api-in-front-of-a-fleet',
  'a-client-for-producers-ai-integrationqueue',
  'deployment-files-deploy',
  'reliability',
  'example-models',
  'containers',
  'inputs-schema',
  'url-inputs',
  'the-result',
  'streaming-outputs',
  'describing-the-output',
  'exit-codes-and-error-codes',
  'environment',
  'owning-the-loop-the-pull-style-api',
  'your-own-modes',
  'development',
  'adding-a-protocol-mode',
  'benchmarks',
];

describe('README', () => {
  test('opens with the two commands a newcomer types', () => {
    const firstBlock = readme.split('```')[1] ?? '';
    expect(firstBlock).toMatch(/^sh\nnpm ci && npm start\s+#.*\nnpm test\s+#/);
  });

  test('stays short: what it is, the commands, the shim, the modes, where to read on', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(220);
  });

  test('gives every mode a row of the modes table', () => {
    for (const mode of listModes()) expect(readme).toMatch(new RegExp(`^\\| \`${mode.name}\` \\|`, 'm'));
  });

  test('keeps every anchor of the former README, so that old links still land', () => {
    const anchors = anchorsOf(readme);
    expect(formerAnchors.filter((anchor) => !anchors.has(anchor))).toEqual([]);
  });
});
