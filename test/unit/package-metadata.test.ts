import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { AiIntegrationError } from '../../src/errors.js';
import { describeModel, findPackageMetadata } from '../../src/package-metadata.js';
import { repoRoot } from '../helpers/run-process.js';

/** Writes a folder tree (paths to file contents, objects as JSON) into a fresh temporary folder and returns its path. */
function tree(files: Record<string, string | object>): string {
  const root = mkdtempSync(join(tmpdir(), 'package-metadata-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

describe('findPackageMetadata: the package.json that describes a shim', () => {
  test('the one beside the shim: name, version and description', () => {
    const root = tree({
      'model/package.json': { name: 'sentiment', version: '1.2.0', description: ' Finds the mood of a sentence. ' },
      'package.json': { name: 'outer' },
    });
    expect(findPackageMetadata(join(root, 'model'))).toEqual({
      path: join(root, 'model/package.json'),
      name: 'sentiment',
      version: '1.2.0',
      description: 'Finds the mood of a sentence.',
    });
  });

  test('the nearest upwards, past folders without one and past one without a name (a build folder\'s {"type": "module"})', () => {
    const root = tree({ 'package.json': { name: 'sentiment', version: '3.0.0' }, 'dist/package.json': { type: 'module' }, 'dist/shims/.keep': '' });
    expect(findPackageMetadata(join(root, 'dist/shims'))).toEqual({ path: join(root, 'package.json'), name: 'sentiment', version: '3.0.0' });
  });

  test('a scoped name is shown without its scope: the name travels in URL paths', () => {
    const root = tree({ 'package.json': { name: '@acme/sentiment', version: '1.0.0' } });
    expect(findPackageMetadata(root)?.name).toBe('sentiment');
  });

  test('fields that are missing, empty or not strings are left out, for the defaults to fill', () => {
    const root = tree({ 'package.json': { name: 'sentiment', version: 2, description: '' } });
    expect(findPackageMetadata(root)).toEqual({ path: join(root, 'package.json'), name: 'sentiment' });
  });

  test("stops at a node_modules folder: a shim installed as a package never takes the installing project's name", () => {
    const root = tree({
      'package.json': { name: 'the-app', version: '9.9.9' },
      'node_modules/model-shim/shim.js': '',
      'node_modules/model-shim/lib/.keep': '',
    });
    expect(findPackageMetadata(join(root, 'node_modules/model-shim/lib'))).toBeUndefined();
    writeFileSync(join(root, 'node_modules/model-shim/package.json'), JSON.stringify({ name: 'model-shim', version: '0.2.0' }));
    expect(findPackageMetadata(join(root, 'node_modules/model-shim/lib'))).toMatchObject({ name: 'model-shim', version: '0.2.0' });
  });

  test("stops at the runtime's own package: its examples and tests are not models with its name", () => {
    const root = tree({
      'package.json': { name: 'outer-project', version: '5.0.0' },
      'ai-integration/package.json': { name: 'ai-integration', version: '0.1.0' },
      'ai-integration/test/fixtures/.keep': '',
    });
    expect(findPackageMetadata(join(root, 'ai-integration/test/fixtures'))).toBeUndefined();
    expect(findPackageMetadata(join(repoRoot, 'dist/shims'))).toBeUndefined();
  });

  test('none up to the filesystem root', () => {
    expect(findPackageMetadata(tree({ 'a/b/.keep': '' }))).toBeUndefined();
  });

  test('a package.json that is not JSON is a configuration error naming the file', () => {
    const root = tree({ 'package.json': '{ "name": "sentiment", }' });
    let caught: unknown;
    try {
      findPackageMetadata(root);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AiIntegrationError);
    expect((caught as AiIntegrationError).code).toBe('AI_ERR_INVALID_OPTION');
    expect((caught as AiIntegrationError).exitCode).toBe(3);
    expect((caught as AiIntegrationError).message).toMatch(
      new RegExp(
        `^cannot read the model's name and version from ${join(root, 'package.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it is not valid JSON \\(.+\\); fix it, or pass name, version and description to startLoop$`,
      ),
    );
  });
});

describe('describeModel: the options, else the package.json, else the defaults', () => {
  const root = tree({ 'package.json': { name: '@acme/sentiment', version: '2.3.0', description: 'Finds the mood of a sentence.' }, 'shim.mjs': '' });
  const shim = join(root, 'shim.mjs');

  test('the package.json fills what the options leave out', () => {
    expect(describeModel({}, shim)).toEqual({ name: 'sentiment', version: '2.3.0', description: 'Finds the mood of a sentence.' });
    expect(describeModel({ name: 'mood', description: '' }, shim)).toEqual({ name: 'mood', version: '2.3.0', description: '' });
    expect(describeModel({ version: '2.4.0-rc.1' }, shim)).toEqual({ name: 'sentiment', version: '2.4.0-rc.1', description: 'Finds the mood of a sentence.' });
  });

  test("without a package.json: the shim's file name, version 1, no description", () => {
    const alone = tree({ 'edge-detector.cjs': '' });
    expect(describeModel({}, join(alone, 'edge-detector.cjs'))).toEqual({ name: 'edge-detector', version: '1', description: '' });
    expect(describeModel({}, undefined)).toEqual({ name: 'model', version: '1', description: '' });
  });

  test('with every option given, no package.json is read (a broken one is no obstacle)', () => {
    const broken = tree({ 'package.json': 'not json', 'shim.js': '' });
    expect(describeModel({ name: 'a', version: 'b', description: 'c' }, join(broken, 'shim.js'))).toEqual({ name: 'a', version: 'b', description: 'c' });
    expect(() => describeModel({ name: 'a' }, join(broken, 'shim.js'))).toThrow(/it is not valid JSON/);
  });
});
