/**
 * The tutorials of docs/tutorials/, run as a reader follows them: `init` from the packed package
 * (npx --package=<tgz>), npm install, the self-test, the tutorial's model written into the folder,
 * the command line, the stdin modes and the HTTP mode, each answer checked against what the page shows (the
 * blocks the page marks with `<!-- docs-test: ... -->`, see test/helpers/docs-tutorial.ts). Then
 * the short README's shim, when it has one, in the TypeScript tutorial's folder.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { printedJson, runTutorial, type RanCommand } from './helpers/docs-tutorial.js';
import { expectSuccess, packPackage, runIn } from './helpers/model-folder.js';
import { repoRoot } from './helpers/run-process.js';

let work: string;
let packed: string;
const folders: Record<string, string> = {};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'docs-tutorials-'));
  mkdirSync(join(work, 'pack'));
  packed = await packPackage(join(work, 'pack'));
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A model folder named as the tutorial's, the packed package beside it, and a blue photo.jpg in it. */
async function modelFolder(language: string): Promise<{ folder: string; tarball: string }> {
  const parent = join(work, language);
  const folder = join(parent, 'colour-namer');
  mkdirSync(folder, { recursive: true });
  const tarball = join(parent, basename(packed));
  copyFileSync(packed, tarball);
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 30, g: 120, b: 200 } } })
    .jpeg()
    .toFile(join(folder, 'photo.jpg'));
  return { folder, tarball };
}

const commandsWith = (ran: RanCommand[], text: string) => ran.filter(({ command }) => command.includes(text));

describe.each([
  { language: 'javascript', shim: 'shim.js', initFlag: '' },
  { language: 'typescript', shim: 'shim.ts', initFlag: ' --typescript' },
])('docs/tutorials/first-model-$language.md', ({ language, shim, initFlag }) => {
  const page = join(repoRoot, 'docs', 'tutorials', `first-model-${language}.md`);

  test('shows npx ai-integration init, and init from a packed tarball before the package is installed', () => {
    const text = readFileSync(page, 'utf8');
    expect(text).toContain(`npx ai-integration init${initFlag}\n`);
    expect(text).toMatch(new RegExp(`npx --yes --package=\\S+\\.tgz ai-integration init${initFlag} --from \\S+\\.tgz`));
  });

  test('every marked block runs: init, npm install, the self-test, the model, the command line and stdin modes answer as shown', async () => {
    const { folder, tarball } = await modelFolder(language);
    const ran = await runTutorial(page, folder, tarball);
    folders[language] = folder;

    // init wrote the model folder, depending on the tarball beside it.
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    expect(manifest.dependencies['ai-integration']).toBe(`file:${basename(tarball)}`);
    expect(manifest.description).toBe('Names the main colour of a photo');
    expect(readFileSync(join(folder, shim), 'utf8')).toContain("import { json, startLoop } from 'ai-integration';");

    // npm test is the self-test, and it passes, each time the page runs it.
    const selfTests = commandsWith(ran, 'npm test');
    expect(selfTests.length).toBeGreaterThanOrEqual(2);
    for (const { outcome } of selfTests) expect(outcome.stderr).toContain('Self-test passed: 5/5 inferences succeeded and every check passed.');

    // --help shows the model's description and one option per input.
    const [help] = commandsWith(ran, '--help');
    expect(help?.outcome.stdout.toString()).toContain('Names the main colour of a photo');
    expect(help?.outcome.stdout.toString()).toMatch(/--image <path>\s+the photo whose main colour to name/);
    expect(help?.outcome.stdout.toString()).toMatch(/--top <value>\s+how many runner-up colours to list/);

    // Every one-shot mode the page runs answers the same model.
    for (const mode of ['test_single_image', 'test_inputs_dict_json', 'test_inputs_pickled_dict']) {
      const [run] = commandsWith(ran, `MODE=${mode}`);
      expect(run, `the page runs MODE=${mode}`).toBeDefined();
      expect(printedJson(run!.outcome)).toMatchObject({ colour: 'blue', dominant: { r: 24, g: 120, b: 200 } });
    }
    // The HTTP mode the page starts answered its curl commands (on a free port in place of 5000).
    expect(commandsWith(ran, '/predict').map(({ outcome }) => (printedJson(outcome) as { status: string }).status)).toEqual(['succeeded', 'succeeded']);
    if (language === 'typescript') expect(readdirSync(folder)).toContain('shim.js'); // what the container runs
  }, 600_000);
});

describe("the README's shim", () => {
  const readme = existsSync(join(repoRoot, 'README.md')) ? readFileSync(join(repoRoot, 'README.md'), 'utf8') : '';
  // The marked shim if the README marks one, else its first TypeScript or JavaScript block that calls startLoop.
  const blocks = [...readme.matchAll(/^(<!-- docs-test: file shim\.\w+ -->\n)?```(?:ts|js|typescript|javascript)\n([\s\S]*?)^```$/gm)];
  const block =
    blocks.find((match) => match[1] !== undefined) ?? blocks.find((match) => /startLoop\(/.test(match[2]!) && /from 'ai-integration'/.test(match[2]!));

  test.skipIf(block === undefined)(
    "compiles in the TypeScript tutorial's folder, passes the self-test and runs on the command line",
    async () => {
      const folder = folders.typescript;
      expect(folder, 'the TypeScript tutorial ran first').toBeDefined();
      writeFileSync(join(folder!, 'shim.ts'), block![2]!);
      const selfTest = expectSuccess(await runIn(folder!, 'npm', ['test']), "npm test of the README's shim");
      expect(selfTest.stderr).toContain('Self-test passed: 5/5');
      if (/\bimage: \{ type: 'image'/.test(block![2]!)) {
        const run = expectSuccess(await runIn(folder!, 'npx', ['ai-integration', 'shim.js', '--image', 'photo.jpg']), "the README's shim on the command line");
        expect(run.stdout.length).toBeGreaterThan(0);
      }
    },
    300_000,
  );
});
