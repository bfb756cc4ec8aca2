/**
 * The image of docs/tutorials/first-model-typescript.md: the tutorial's folder (its marked blocks,
 * run by the same helper as test/docs-tutorials.test.ts), the shim.js compiled on the machine
 * removed, then `podman build --format docker` of the tutorial's Dockerfile, whose build stage
 * compiles shim.ts in the image; the image then runs the command line and the self-test.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runTutorial } from '../helpers/docs-tutorial.js';
import { packPackage } from '../helpers/model-folder.js';
import { podman, podmanText, runCommand } from '../helpers/podman.js';
import { repoRoot, stdoutJson } from '../helpers/run-process.js';

const baseImage = 'localhost/ai-integration-tutorial-test-node:20';
const image = 'localhost/ai-integration-tutorial-colour-namer:test';
let work: string;
let photo: Buffer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tutorial-image-'));
  mkdirSync(join(work, 'pack'));
  const packed = await packPackage(join(work, 'pack'));
  const folder = join(work, 'colour-namer');
  mkdirSync(folder);
  const tarball = join(work, basename(packed));
  copyFileSync(packed, tarball);
  photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 30, g: 120, b: 200 } } })
    .jpeg()
    .toBuffer();
  await sharp(photo).toFile(join(folder, 'photo.jpg'));
  await runTutorial(join(repoRoot, 'docs', 'tutorials', 'first-model-typescript.md'), folder, tarball);
  // The image must compile shim.ts itself: no shim.js from this machine (.dockerignore keeps it out too).
  rmSync(join(folder, 'shim.js'));
  const base = await runCommand(join(folder, 'node_modules', 'ai-integration', 'docker', 'local-base-image.sh'), [baseImage]);
  expect(base.code, base.stderr).toBe(0);
  // Host networking lets npm ci in the build reach the registry as this machine does.
  const build = await podman(['build', '--format', 'docker', '--network', 'host', '--build-arg', `BASE_IMAGE=${baseImage}`, '-t', image, folder], {
    timeoutMs: 600_000,
  });
  expect(build.code, build.stderr).toBe(0);
}, 1_200_000);

afterAll(async () => {
  await podman(['rmi', '-f', image, baseImage]);
  rmSync(work, { recursive: true, force: true });
});

describe("the TypeScript tutorial's image", () => {
  test('docker run --rm -i IMAGE --image - < photo.jpg: the compiled shim names the colour', async () => {
    const outcome = await podman(['run', '--rm', '-i', '--no-healthcheck', image, '--image', '-'], { stdin: photo });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome)).toEqual({ colour: 'blue', runners_up: ['gray', 'green'], dominant: { r: 24, g: 120, b: 200 } });
  });

  test('docker run --rm -e MODE=test_model_integration IMAGE: the self-test passes in the container', async () => {
    const outcome = await podman(['run', '--rm', '--no-healthcheck', '-e', 'MODE=test_model_integration', image]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toContain('Self-test passed: 5/5');
    expect(stdoutJson(outcome)).toMatchObject({ colour: 'silver' });
  });

  test('keeps the health check and uid 1000; /model holds the compiled shim.js, the palette, and no TypeScript tools', async () => {
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
      "const fs = require('fs'); console.log(fs.readdirSync('/model').sort().join(' '), fs.existsSync('/model/node_modules/typescript'))",
    ]);
    expect(listing.code, listing.stderr).toBe(0);
    expect(listing.stdout.toString().trim()).toMatch(
      /^ai-integration-[\d.]+\.tgz node_modules package-lock\.json package\.json palette\.json photo\.jpg shim\.js shim\.ts tsconfig\.json false$/,
    );
  });
});
