/**
 * The commands of docs/how-to/ that run on one machine, run as a reader types them: the blocks a
 * page marks with `<!-- docs-test: ... -->` (test/helpers/docs-tutorial.ts), in a folder `init`
 * wrote from the packed package (named image-stats, as the pages' model is), with a photo.jpg.
 * A serving mode starts on a free port in place of the page's; every curl must get a 2xx answer.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { markedBlocks, printedJson, runTutorial } from './helpers/docs-tutorial.js';
import { expectSuccess, npmInstall, packPackage, runIn } from './helpers/model-folder.js';
import { repoRoot } from './helpers/run-process.js';
import { supervisorBin } from './helpers/supervisor.js';

let work: string;
let folder: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'docs-how-to-'));
  mkdirSync(join(work, 'pack'));
  const packed = await packPackage(join(work, 'pack'));
  folder = join(work, 'image-stats');
  mkdirSync(folder);
  tarball = join(work, basename(packed));
  copyFileSync(packed, tarball);
  expectSuccess(await runIn(folder, process.execPath, [supervisorBin, 'init', '--from', tarball]), 'ai-integration init');
  expectSuccess(await runIn(folder, 'npm', npmInstall), 'npm install');
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 30, g: 120, b: 200 } } })
    .jpeg()
    .toFile(join(folder, 'photo.jpg'));
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const howTo = join(repoRoot, 'docs', 'how-to');
const marked = readdirSync(howTo)
  .filter((page) => page.endsWith('.md') && markedBlocks(readFileSync(join(howTo, page), 'utf8')).length > 0)
  .sort();

/** What a page's commands print, where its model is not the one init wrote (whose answers hold the photo's width, 64). */
const pageOutputs: Record<string, RegExp[]> = {
  'async-and-webhooks.md': [/"status":"(starting|processing|succeeded)"/, /"width":64/],
  'streaming.md': [/event: output\nid: 0\ndata: "Hello"\n/, /data: " world"\n/, /event: done\n/],
  'openai.md': [/"content":"You said: Hello there"/, /"delta":\{"content":" Hi"\}/, /data: \[DONE\]/, /"owned_by":"ai-integration"/],
  'own-mode.md': [/^YOU SAID HELLO THERE!$/m, /\{"echo":"HI"\}/],
  'pull-style-api.md': [/^HELLO$/m, /"output":"HELLO"/],
  'weights.md': [/"width": 64/, /^example\.jpg$/m],
  'workers-and-batching.md': [/"width":64/, /"workers":\[\{"index":0,[^\]]*\{"index":1,/],
};

describe('docs/how-to', () => {
  test('marks the pages whose commands run on one machine', () => {
    expect(marked).toEqual([
      'async-and-webhooks.md',
      'cog.md',
      'command-line-and-stdin.md',
      'http.md',
      'kserve.md',
      'openai.md',
      'own-mode.md',
      'pull-style-api.md',
      'sagemaker.md',
      'streaming.md',
      'vertex.md',
      'weights.md',
      'workers-and-batching.md',
    ]);
  });

  test.each(marked)(
    '%s: every marked command runs and answers',
    async (page) => {
      const ran = await runTutorial(join(howTo, page), folder, tarball, { curlFails: true });
      expect(ran.length).toBeGreaterThan(0);
      if (page === 'command-line-and-stdin.md') {
        // Each command's JSON: the photo's statistics, or the self-test's gray image.
        for (const { command, outcome } of ran.filter(({ command }) => !command.includes('--help') && !command.includes('/dev/null'))) {
          expect((printedJson(outcome) as { width: number }).width, command).toBe(command.includes('test_model_integration') ? 600 : 64);
        }
      } else {
        const printed = ran.map(({ outcome }) => outcome.stdout.toString('utf8')).join('\n');
        for (const pattern of pageOutputs[page] ?? [/\\?"width\\?":64/]) expect(printed).toMatch(pattern);
      }
    },
    300_000,
  );
});
