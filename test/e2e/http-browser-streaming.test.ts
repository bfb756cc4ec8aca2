// The web page with a streaming model (test/fixtures/stream-model.mjs), in Debian's chromium driven
// by playwright-core as in http-browser.test.ts: the page asks for server-sent events and shows the
// result growing while the model is held after its first chunk (its `gate` input), then the
// normal result. Screenshots are kept in test-artifacts/.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { gateFiles } from '../helpers/gates.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, repoRoot } from '../helpers/run-process.js';

const artifacts = join(repoRoot, 'test-artifacts');
const gates = gateFiles('browser-streaming-');
const { gate } = gates;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  server = await startServer(fixture('stream-model.mjs'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  gates.remove();
});

// Every page is opened through this, so that each test also proves the page asks nothing of the
// network beyond its own server.
let opened: { context: BrowserContext; external: string[] }[] = [];
async function openPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const external: string[] = [];
  context.on('request', (request) => {
    if (/^https?:/.test(request.url()) && !request.url().startsWith(server.url)) external.push(request.url());
  });
  opened.push({ context, external });
  const page = await context.newPage();
  await page.goto(server.url);
  return page;
}
afterEach(async () => {
  // A failing test must leave no model held, which would hold up the next test's prediction.
  gates.openAll();
  for (const { context, external } of opened) {
    await context.close();
    expect(external).toEqual([]);
  }
  opened = [];
});

const screenshot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `http-page-${name}.png`), fullPage: true });
const meta = (page: Page) => page.locator('#result .result-meta').innerText();

describe('the web page with a streaming model, in chromium', () => {
  test('Run shows the first chunk while the model is still held, with a Streaming meta line; then the whole text and the normal Done meta', async () => {
    const page = await openPage();
    const held = gate();
    await page.fill('#input-gate', held);
    await page.click('#run');

    const shown = page.locator('#result pre.output-text');
    await expect.poll(() => shown.count(), { timeout: 20_000 }).toBe(1);
    expect(await shown.innerText()).toBe('Hello');
    expect(await meta(page)).toBe('Streaming · 1 chunk so far');
    expect(await page.locator('#result').getAttribute('class')).toBe('success partial');
    // The model is held after its first chunk: the page showed it before the rest existed.
    expect(existsSync(held)).toBe(false);
    expect(await page.isDisabled('#run')).toBe(true);
    await screenshot(page, 'streaming');

    writeFileSync(held, '');
    await expect.poll(() => meta(page), { timeout: 20_000 }).toMatch(/^Text · Done in /);
    expect(await page.locator('#result').getAttribute('class')).toBe('success');
    expect(await page.locator('#result pre.output-text').innerText()).toBe('Hello streaming world');
    expect(await page.isDisabled('#run')).toBe(false);
    await screenshot(page, 'streamed');
  });

  test('JSON chunks show as a growing list, then the collected list as the JSON result', async () => {
    const page = await openPage();
    const held = gate();
    await page.fill('#input-prompt', 'one two');
    await page.selectOption('#input-kind', 'json');
    await page.fill('#input-gate', held);
    await page.click('#run');
    await page.locator('#result.partial pre.output-json').waitFor({ timeout: 20_000 });
    expect(await meta(page)).toBe('Streaming · 1 chunk so far');
    expect(JSON.parse(await page.locator('#result pre.output-json').innerText())).toEqual([{ index: 0, word: 'one' }]);
    expect(existsSync(held)).toBe(false);

    writeFileSync(held, '');
    await expect.poll(() => meta(page), { timeout: 20_000 }).toMatch(/^JSON · Done in /);
    expect(JSON.parse(await page.locator('#result pre.output-json').innerText())).toEqual([
      { index: 0, word: 'one' },
      { index: 1, word: ' two' },
    ]);
  });

  test("a stream that fails after a chunk ends as the model's failure, in a sentence with its code", async () => {
    const page = await openPage();
    await page.selectOption('#input-kind', 'failure');
    await page.click('#run');
    await page.locator('#result.failure').waitFor();
    expect(await page.locator('#result .failure-title').innerText()).toBe('The model could not give a result');
    expect(await page.locator('#result .failure-message').innerText()).toContain('the model gave up halfway');
    expect(await page.locator('#result .failure-code').innerText()).toMatch(/^Error code AI_ERR_MODEL_FAILED/);
    expect(await page.isDisabled('#run')).toBe(false);
  });
});
