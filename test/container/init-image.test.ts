/**
 * The folder `ai-integration init` writes, built as its author would: npm install against the
 * packed package, a local base image from the installed package's own docker/local-base-image.sh
 * (no registry to pull from here), `podman build --format docker` of the Dockerfile init wrote,
 * then the image run from the command line with an image on stdin, and its self-test.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { solidImage } from '../helpers/images.js';
import { expectSuccess, npmInstall, packPackage, runIn } from '../helpers/model-folder.js';
import { podman, podmanText, runCommand } from '../helpers/podman.js';
import { stdoutJson } from '../helpers/run-process.js';
import { supervisorBin } from '../helpers/supervisor.js';

const baseImage = 'localhost/ai-integration-init-test-node:20';
const image = 'localhost/ai-integration-init-model:test';
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'init-image-'));
  mkdirSync(join(work, 'pack'));
  const tarball = await packPackage(join(work, 'pack'));
  const model = join(work, 'model');
  mkdirSync(model);
  expectSuccess(await runIn(model, process.execPath, [supervisorBin, 'init', '--from', tarball]), 'ai-integration init');
  expectSuccess(await runIn(model, 'npm', npmInstall), 'npm install');
  const base = await runCommand(join(model, 'node_modules', 'ai-integration', 'docker', 'local-base-image.sh'), [baseImage]);
  expect(base.code, base.stderr).toBe(0);
  // --format docker keeps the HEALTHCHECK (OCI images drop it); host networking lets npm ci in the
  // build reach the registry as this machine does.
  const build = await podman(['build', '--format', 'docker', '--network', 'host', '--build-arg', `BASE_IMAGE=${baseImage}`, '-t', image, model], {
    timeoutMs: 600_000,
  });
  expect(build.code, build.stderr).toBe(0);
}, 900_000);

afterAll(async () => {
  await podman(['rmi', '-f', image, baseImage]);
  rmSync(work, { recursive: true, force: true });
});

describe('the image of the folder init wrote', () => {
  test('docker run -i IMAGE --image - < photo.png: the command line, the image read from stdin', async () => {
    const photo = await solidImage(64, 48, { r: 30, g: 120, b: 200 });
    const outcome = await podman(['run', '--rm', '-i', '--no-healthcheck', image, '--image', '-'], { stdin: photo });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome)).toEqual({ width: 64, height: 48, format: 'png', means: [30, 120, 200], opaque: true });
  });

  test('docker run -e MODE=test_model_integration IMAGE: the self-test passes in the container', async () => {
    const outcome = await podman(['run', '--rm', '--no-healthcheck', '-e', 'MODE=test_model_integration', image]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toContain('Self-test passed: 5/5');
    expect(stdoutJson(outcome)).toMatchObject({ width: 600, height: 400, format: 'jpeg' });
  });

  test("the image keeps the template's health check, runs as uid 1000, and holds the model's files only (.dockerignore)", async () => {
    expect(await podmanText(['image', 'inspect', '--format', '{{json .HealthCheck.Test}} {{.User}}', image])).toBe(
      '["CMD","node","/model/node_modules/ai-integration/dist/healthcheck.js"] 1000:1000',
    );
    const listing = await podman([
      'run',
      '--rm',
      '--no-healthcheck',
      '--entrypoint',
      'node',
      image,
      '-e',
      "console.log(require('fs').readdirSync('/model').sort().join(' '))",
    ]);
    expect(listing.code, listing.stderr).toBe(0);
    expect(listing.stdout.toString().trim()).toMatch(/^ai-integration-[\d.]+\.tgz node_modules package-lock\.json package\.json shim\.js$/);
  });
});
