// The web page in a real browser: Debian's chromium driven by playwright-core. Screenshots are
// written to test-artifacts/.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg } from '../helpers/images.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, repoRoot } from '../helpers/run-process.js';

const artifacts = join(repoRoot, 'test-artifacts');
const photoPath = join(mkdtempSync(join(tmpdir(), 'browser-')), 'photo.jpg');
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(photoPath, await makeJpeg(120, 80));
  server = await startServer(fixture('http-model.mjs'));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the web page in chromium', () => {
  test('fill the form with a real image, submit, and see each kind of result rendered', async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      // blob: and data: URLs (the preview, the result) never leave the browser.
      if (/^https?:/.test(request.url()) && !request.url().startsWith(server.url)) external.push(request.url());
    });
    await page.goto(server.url);
    await page.setInputFiles('#input-image', photoPath);
    await expect.poll(() => page.locator('#preview-image').evaluate((image: { naturalWidth: number }) => image.naturalWidth)).toBe(120);
    await page.fill('#input-strength', '0.75');
    await page.check('#input-flag');
    await page.fill('#input-note', 'from the browser');

    await page.click('button[type=submit]');
    const json = page.locator('#result.success pre.output-text');
    await json.waitFor();
    const rendered = JSON.parse(await json.innerText()) as unknown;
    expect(rendered).toEqual({ received: { image: '120x80 jpeg', strength: 0.75, flag: true, note: 'from the browser' } });
    await page.screenshot({ path: join(artifacts, 'http-page-json.png'), fullPage: true });

    await page.selectOption('#input-action', 'image');
    await page.click('button[type=submit]');
    const image = page.locator('#result.success img.output-image');
    await image.waitFor();
    await expect.poll(() => image.evaluate((element: { naturalWidth: number }) => element.naturalWidth)).toBe(120);
    await page.screenshot({ path: join(artifacts, 'http-page-image.png'), fullPage: true });

    await page.selectOption('#input-action', 'text');
    await page.click('button[type=submit]');
    await page.locator('#result.success pre.output-text').filter({ hasText: 'hello from the browser' }).waitFor();

    await page.selectOption('#input-action', 'fail');
    await page.click('button[type=submit]');
    const failure = page.locator('#result.failure');
    await failure.waitFor();
    expect(await failure.innerText()).toContain('Failed (500 AI_ERR_MODEL_FAILED)');
    expect(await failure.innerText()).toContain('the model reported a failure: no face found in the image');
    await page.screenshot({ path: join(artifacts, 'http-page-failure.png'), fullPage: true });

    expect(external).toEqual([]);
    await page.close();
  });

  test('the interactive docs render from the package\'s own Swagger UI', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/docs`);
    await page.locator('.opblock-summary-path', { hasText: '/predict' }).first().waitFor();
    await page.screenshot({ path: join(artifacts, 'http-docs.png') });
    await page.close();
  });
});
