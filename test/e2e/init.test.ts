/**
 * `npx ai-integration init` as a model author meets it: the package packed as npm publishes it and
 * installed in a folder of its own, init run from that install (JavaScript and --typescript),
 * `npm install` against the tarball, and the folder's own `npm test` (the self-test) passing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { markedBlocks } from '../helpers/docs-tutorial.js';
import { solidImage } from '../helpers/images.js';
import { expectSuccess, npmInstall, packPackage, runIn } from '../helpers/model-folder.js';
import { repoRoot } from '../helpers/run-process.js';

let work: string;
let tarball: string;
let bin: string; // the installed package's bin, as npx runs it
let version: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'init-'));
  mkdirSync(join(work, 'pack'));
  tarball = await packPackage(join(work, 'pack'));
  const tool = join(work, 'tool');
  mkdirSync(tool);
  expectSuccess(await runIn(tool, 'npm', [...npmInstall, tarball]), 'npm install of the packed package');
  bin = join(tool, 'node_modules', '.bin', 'ai-integration');
  version = (JSON.parse(readFileSync(join(tool, 'node_modules', 'ai-integration', 'package.json'), 'utf8')) as { version: string }).version;
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const init = (cwd: string, args: string[]) => runIn(cwd, bin, ['init', ...args]);
const folder = (name: string) => {
  const path = join(work, name);
  mkdirSync(path, { recursive: true });
  return path;
};
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** The installed packages (nested ones too) whose package.json has a preinstall, install or postinstall script: what runs in a user's `npm install`. */
function packagesWithInstallScripts(nodeModules: string): string[] {
  const found = new Set<string>();
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === '.bin') continue;
      const path = join(folder, entry.name);
      if (entry.name.startsWith('@')) {
        visit(path);
        continue;
      }
      const manifest = join(path, 'package.json');
      if (existsSync(manifest)) {
        const { name, scripts } = readJson(manifest) as { name: string; scripts?: Record<string, string> };
        if (scripts?.preinstall || scripts?.install || scripts?.postinstall) found.add(name);
      }
      if (existsSync(join(path, 'node_modules'))) visit(join(path, 'node_modules'));
    }
  };
  visit(nodeModules);
  return [...found].sort();
}

describe('the packed package', () => {
  test('ships the container template, its .dockerignore, the local base image script and the init templates', () => {
    const installed = join(work, 'tool', 'node_modules', 'ai-integration');
    expect(readdirSync(join(installed, 'docker')).sort()).toEqual(['.dockerignore', 'Dockerfile', 'local-base-image.sh']);
    expect(readFileSync(join(installed, 'docker', 'Dockerfile'), 'utf8')).toBe(readFileSync(join(repoRoot, 'docker', 'Dockerfile'), 'utf8'));
    expect(readdirSync(join(installed, 'templates', 'init')).sort()).toEqual([
      'Dockerfile.typescript',
      'dockerignore-typescript.txt',
      'shim.js',
      'shim.ts',
      'tsconfig.json',
    ]);
  });

  test("installs no analytics: no @scarf/scarf in the tree, and the install scripts are msgpackr-extract's check for its prebuilt binary and protobufjs's version-scheme warning", async () => {
    const tool = join(work, 'tool');
    const listed = await runIn(tool, 'npm', ['ls', '@scarf/scarf', '--all', '--json']);
    expect((JSON.parse(listed.stdout.toString()) as { dependencies?: unknown }).dependencies).toBeUndefined();
    expect(packagesWithInstallScripts(join(tool, 'node_modules'))).toEqual(['msgpackr-extract', 'protobufjs']);
    // The docs page's Swagger UI is the package's own copy, not a dependency.
    expect(readdirSync(join(tool, 'node_modules', 'ai-integration', 'dist', 'docs-ui')).sort()).toEqual([
      'LICENSE',
      'NOTICE',
      'swagger-ui-bundle.js',
      'swagger-ui.css',
    ]);
  });

  test('--help lists init; init --help lists its options', async () => {
    const help = await runIn(work, bin, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toContain('ai-integration init [DIR]');
    const initHelp = await init(work, ['--help']);
    expect(initHelp.code).toBe(0);
    expect(initHelp.stdout.toString()).toContain('Usage: ai-integration init [options] [directory]');
    for (const option of ['--typescript', '--force', '--from <tarball>']) expect(initHelp.stdout.toString()).toContain(option);
  });
});

describe('init, npm install, npm test', () => {
  test("JavaScript, in an existing folder: writes only the model's files, prints the next three commands, and its npm test passes", async () => {
    const model = folder('image-model');
    writeFileSync(join(model, 'weights.bin'), "the model's own file");
    const outcome = await init(model, ['--from', tarball]);
    expect(outcome.code, outcome.stderr).toBe(0);
    const tgz = basename(tarball);
    expect(readdirSync(model).sort()).toEqual(['.dockerignore', 'Dockerfile', tgz, 'package.json', 'shim.js', 'weights.bin'].sort());
    expect(outcome.stdout.toString()).toBe(
      [
        `Wrote package.json, ${tgz}, shim.js, Dockerfile, .dockerignore in this folder.`,
        'Next:',
        '  npm install   # ai-integration and sharp',
        '  npm test      # the self-test: 5 inferences on a gray image',
        '  docker build -t image-model . && docker run --rm -i image-model --image - < photo.jpg',
        '',
      ].join('\n'),
    );
    expect(readJson(join(model, 'package.json'))).toEqual({
      name: 'image-model',
      version: '0.1.0',
      private: true,
      description: 'An image model served with ai-integration (replace the statistics in shim.js with your model)',
      type: 'module',
      scripts: { start: 'ai-integration shim.js', test: 'MODE=test_model_integration ai-integration shim.js' },
      dependencies: { 'ai-integration': `file:${tgz}`, sharp: readJson(join(repoRoot, 'package.json')).dependencies.sharp },
      allowScripts: { 'msgpackr-extract': false, protobufjs: false },
    });
    expect(readFileSync(join(model, 'Dockerfile'), 'utf8')).toBe(readFileSync(join(repoRoot, 'docker', 'Dockerfile'), 'utf8'));
    expect(readFileSync(join(model, '.dockerignore'), 'utf8')).toBe(readFileSync(join(repoRoot, 'docker', '.dockerignore'), 'utf8'));
    expect(readFileSync(join(model, 'weights.bin'), 'utf8')).toBe("the model's own file");

    // With npm's warnings: none about install scripts (the package.json answers for msgpackr-extract's and protobufjs's).
    const installed = expectSuccess(await runIn(model, 'npm', [...npmInstall, '--loglevel=warn']), 'npm install');
    expect(installed.stderr).not.toContain('install-scripts');
    const selfTest = expectSuccess(await runIn(model, 'npm', ['test', '--silent']), 'npm test');
    expect(selfTest.stderr).toContain('Self-test passed: 5/5');
    expect(JSON.parse(selfTest.stdout.toString())).toMatchObject({ width: 600, height: 400, format: 'jpeg', opaque: true });

    // npm start runs the shim under the supervisor, as the container does: here, the command line.
    const photo = await solidImage(64, 48, { r: 30, g: 120, b: 200 });
    const start = expectSuccess(await runIn(model, 'npm', ['start', '--silent', '--', '--image', '-', '--precision', '0'], { stdin: photo }), 'npm start');
    expect(JSON.parse(start.stdout.toString())).toEqual({ width: 64, height: 48, format: 'png', means: [30, 120, 200], opaque: true });
  });

  test('--typescript: shim.ts, tsconfig.json and a build step; npm test compiles it and passes', async () => {
    const model = folder('typed model');
    const outcome = await init(model, ['--typescript', '--from', tarball]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(readdirSync(model).sort()).toEqual(['.dockerignore', 'Dockerfile', basename(tarball), 'package.json', 'shim.ts', 'tsconfig.json'].sort());
    expect(outcome.stdout.toString()).toContain('  npm test      # compiles shim.ts, then the self-test: 5 inferences on a gray image\n');
    // The image compiles shim.ts itself: no `npm run build` before `docker build`.
    expect(outcome.stdout.toString()).toContain('\n  docker build -t typed-model . && docker run --rm -i typed-model --image - < photo.jpg\n');
    // The Dockerfile is the TypeScript tutorial's, with its build stage; .dockerignore lets shim.ts in and a local shim.js out.
    const tutorial = readFileSync(join(repoRoot, 'docs', 'tutorials', 'first-model-typescript.md'), 'utf8');
    const dockerfile = markedBlocks(tutorial).find((block) => block.kind === 'file' && block.name === 'Dockerfile')!.body;
    expect(readFileSync(join(model, 'Dockerfile'), 'utf8')).toBe(dockerfile);
    expect(dockerfile).toContain('RUN npm run build\n');
    expect(readFileSync(join(model, '.dockerignore'), 'utf8')).toBe(
      `${readFileSync(join(repoRoot, 'docker', '.dockerignore'), 'utf8')}# shim.ts is compiled in the image's build stage; a shim.js built here stays out.\n!shim.ts\nshim.js\n`,
    );
    const manifest = readJson(join(model, 'package.json'));
    expect(manifest.name).toBe('typed-model');
    expect(manifest.scripts).toEqual({
      build: 'tsc',
      start: 'npm run build --silent && ai-integration shim.js',
      test: 'npm run build --silent && MODE=test_model_integration ai-integration shim.js',
    });
    // tsx, for `ai-integration dev shim.ts`, in the range the package takes it as a peer.
    expect(Object.keys(manifest.devDependencies)).toEqual(['@types/node', 'tsx', 'typescript']);
    expect(manifest.devDependencies.tsx).toBe(readJson(join(repoRoot, 'package.json')).peerDependencies.tsx);

    expectSuccess(await runIn(model, 'npm', npmInstall), 'npm install');
    const selfTest = expectSuccess(await runIn(model, 'npm', ['test', '--silent']), 'npm test');
    expect(selfTest.stderr).toContain('Self-test passed: 5/5');
    expect(JSON.parse(selfTest.stdout.toString())).toMatchObject({ width: 600, height: 400, format: 'jpeg' });
    expect(readdirSync(model)).toContain('shim.js'); // what the Dockerfile runs
    // What `dev shim.ts` loads first: the model folder's own tsx.
    expect(existsSync(join(model, 'node_modules', 'tsx', 'package.json'))).toBe(true);

    // The build step is a type check: a mistake in shim.ts fails npm test before the model runs.
    const shim = readFileSync(join(model, 'shim.ts'), 'utf8');
    writeFileSync(join(model, 'shim.ts'), shim.replace('Number(value.toFixed(inputs.precision))', 'Number(value.toFixed(inputs.image))'));
    const broken = await runIn(model, 'npm', ['test', '--silent']);
    expect(broken.code).not.toBe(0);
    expect(broken.stdout.toString() + broken.stderr).toContain("error TS2345: Argument of type 'Buffer");
    expect(broken.stderr).not.toContain('Self-test');
    // An npm install (TypeScript, tsx and its esbuild binary) and three runs of tsc: about a minute
    // on a machine shared with other test runs, past the tier's 60 s.
  }, 180_000);
});

describe('init never overwrites without --force', () => {
  test('refuses, naming every file it would overwrite, and writes nothing; --force overwrites them and leaves other files alone', async () => {
    const model = folder('existing');
    expect((await init(model, [])).code).toBe(0);
    writeFileSync(join(model, 'shim.js'), '// my own model\n');
    writeFileSync(join(model, 'weights.bin'), 'weights');

    const refused = await init(model, ['--typescript']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'error: init would overwrite package.json, Dockerfile, .dockerignore in this folder; nothing was written. Run it again with --force to overwrite them.\n',
    );
    expect(refused.stdout.toString()).toBe('');
    expect(readdirSync(model).sort()).toEqual(['.dockerignore', 'Dockerfile', 'package.json', 'shim.js', 'weights.bin']);
    const again = await init(model, []);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('init would overwrite package.json, shim.js, Dockerfile, .dockerignore in this folder');
    expect(readFileSync(join(model, 'shim.js'), 'utf8')).toBe('// my own model\n');

    const forced = await init(model, ['--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout.toString()).toContain('(overwrote package.json, shim.js, Dockerfile, .dockerignore)');
    expect(readFileSync(join(model, 'shim.js'), 'utf8')).toBe(readFileSync(join(repoRoot, 'templates', 'init', 'shim.js'), 'utf8'));
    expect(readFileSync(join(model, 'weights.bin'), 'utf8')).toBe('weights');
  });
});

describe('init, other cases', () => {
  test("without --from, the dependency is the running package's version; a folder argument is created and named in the commands", async () => {
    const outcome = await init(work, ['new-models/Face Detector']);
    expect(outcome.code, outcome.stderr).toBe(0);
    const model = join(work, 'new-models', 'Face Detector');
    expect(readJson(join(model, 'package.json'))).toMatchObject({ name: 'face-detector', dependencies: { 'ai-integration': `^${version}` } });
    expect(outcome.stdout.toString()).toContain(
      "in new-models/Face Detector.\nNext:\n  cd 'new-models/Face Detector' && npm install   # ai-integration and sharp\n",
    );
    expect(outcome.stdout.toString()).toContain('  docker build -t face-detector . && ');
  });

  test('a --from that does not exist and an unknown option are usage errors (exit 2) with one line', async () => {
    const missing = await init(folder('bad-from'), ['--from', 'nowhere.tgz']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('error: --from: "nowhere.tgz" does not exist; pass the tarball npm pack wrote\n');
    expect(readdirSync(join(work, 'bad-from'))).toEqual([]);
    const unknown = await init(folder('bad-option'), ['--typscript']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown option '--typscript'.*\(see ai-integration init --help\)\n$/);
  });
});
