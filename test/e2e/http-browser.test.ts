// The web page in a real browser: Debian's chromium driven by playwright-core, against a real
// server (test/fixtures/page-model.mjs). Screenshots are kept in test-artifacts/ (printed at the end).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, FileChooser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { makeJpeg } from '../helpers/images.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, repoRoot } from '../helpers/run-process.js';

const artifacts = join(repoRoot, 'test-artifacts');
const scratch = mkdtempSync(join(tmpdir(), 'browser-'));
const photoPath = join(scratch, 'photo.jpg');
const gateFile = join(scratch, 'gate');
let photo: Buffer;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  photo = await makeJpeg(120, 80);
  writeFileSync(photoPath, photo);
  server = await startServer(fixture('page-model.mjs'), { GATE_FILE: gateFile });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  console.log(`browser test screenshots: ${artifacts}`);
});

// Every page is opened through this, so that each test also proves the page asks nothing of the
// network beyond its own server (containers are often offline).
let opened: { context: BrowserContext; external: string[] }[] = [];
async function openPage(options: BrowserContextOptions = {}, beforeLoad?: (page: Page) => void): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const external: string[] = [];
  context.on('request', (request) => {
    // blob: and data: URLs (previews, results, examples) never leave the browser.
    if (/^https?:/.test(request.url()) && !request.url().startsWith(server.url)) external.push(request.url());
  });
  opened.push({ context, external });
  const page = await context.newPage();
  beforeLoad?.(page);
  await page.goto(server.url);
  return page;
}
afterEach(async () => {
  for (const { context, external } of opened) {
    await context.close();
    expect(external).toEqual([]);
  }
  opened = [];
});

/** Runs an expression in the page; the tests compile without DOM types, so browser code is text. */
const inPage = <T>(page: Page, expression: string) => page.evaluate(expression) as Promise<T>;
const focusedId = (page: Page) => inPage<string>(page, 'document.activeElement.id');

const screenshot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `http-page-${name}.png`), fullPage: true });

async function run(page: Page, action?: string): Promise<void> {
  if (action) await page.selectOption('#input-action', action);
  // Forget the previous result, so that the wait below is for this run's.
  await inPage(page, "document.getElementById('result').className = ''; document.getElementById('result').replaceChildren()");
  await page.click('#run');
  await page.locator('#result.success, #result.failure').waitFor();
}

async function jsonResult(page: Page): Promise<unknown> {
  return JSON.parse(await page.locator('#result.success pre.output-json').innerText()) as unknown;
}

/** A file made inside the page from bytes, in a DataTransfer as a drag or the clipboard carries it. */
function dataTransferWith(page: Page, file: { name: string; type: string; bytes: Buffer }) {
  const args = JSON.stringify({ name: file.name, type: file.type, base64: file.bytes.toString('base64') });
  return page.evaluateHandle(`(({ name, type, base64 }) => {
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type }));
    return transfer;
  })(${args})`);
}

const naturalWidth = (page: Page, selector: string) => page.locator(selector).evaluate((image: { naturalWidth: number }) => image.naturalWidth);

describe('the web page in chromium', () => {
  test("the model's name, version and description head the page; inputs beside the result on a desktop", async () => {
    const page = await openPage();
    expect(await page.title()).toBe('face-finder');
    expect(await page.locator('h1').innerText()).toBe('face-finder');
    expect(await page.locator('header .version').innerText()).toBe('v2.1.0');
    expect(await page.locator('header .description').innerText()).toBe('Finds faces in a photo and describes them.');
    const form = (await page.locator('#form').boundingBox())!;
    const output = (await page.locator('.output').boundingBox())!;
    expect(output.x).toBeGreaterThanOrEqual(form.x + form.width);
    expect(await inPage(page, 'getComputedStyle(document.body).backgroundColor')).toBe('rgb(244, 246, 249)');
    await screenshot(page, 'desktop');
  });

  test('an image dropped on the drop zone is previewed and reaches the model; a dropped non-image is refused beside the input', async () => {
    const page = await openPage();
    const zone = '.drop[data-drop="photo"]';
    const dataTransfer = await dataTransferWith(page, { name: 'photo.jpg', type: 'image/jpeg', bytes: photo });
    await page.dispatchEvent(zone, 'dragenter', { dataTransfer });
    await page.dispatchEvent(zone, 'dragover', { dataTransfer });
    expect(await page.locator(zone).getAttribute('class')).toContain('dragging');
    await page.dispatchEvent(zone, 'drop', { dataTransfer });
    expect(await page.locator(zone).getAttribute('class')).not.toContain('dragging');
    await expect.poll(() => naturalWidth(page, '#preview-photo')).toBe(120);
    expect(await page.locator('#chosen-photo').innerText()).toMatch(/^photo\.jpg \(.+\)$/);
    await screenshot(page, 'dropped');
    await run(page);
    expect(await jsonResult(page)).toMatchObject({ received: { photo: '120x80 jpeg' } });

    const text = await dataTransferWith(page, { name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('not a picture') });
    await page.dispatchEvent(zone, 'drop', { dataTransfer: text });
    expect(await page.locator('#error-photo').innerText()).toBe('notes.txt is text/plain, not an image; choose a JPEG, PNG, WebP, GIF, TIFF or AVIF image.');
    expect(await page.locator('#chosen-photo').innerText()).toContain('photo.jpg');
  });

  test('an image pasted with Ctrl+V goes to the image input', async () => {
    const page = await openPage();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    // A real clipboard holding a PNG, as after copying an image in another page or a screenshot tool.
    await inPage(
      page,
      `(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 33;
      canvas.height = 22;
      canvas.getContext('2d').fillRect(0, 0, 33, 22);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      await navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]);
    })()`,
    );
    await page.locator('h1').click();
    await page.keyboard.press('Control+V');
    await expect.poll(() => naturalWidth(page, '#preview-photo')).toBe(33);
    await run(page);
    expect(await jsonResult(page)).toMatchObject({ received: { photo: '33x22 png' } });
  });

  test('each example fills its input in one click, and "Use all examples" fills them all', async () => {
    const page = await openPage();
    expect(await page.locator('#example-threshold code').innerText()).toBe('0.8');
    await page.click('#example-threshold button');
    expect(await page.inputValue('#input-threshold')).toBe('0.8');
    await page.click('#example-prompt button');
    expect(await page.inputValue('#input-prompt')).toBe('a cat on a mat');
    await page.click('#example-options button');
    expect(JSON.parse(await page.inputValue('#input-options'))).toEqual({ faces: 3, crop: true });
    await page.click('#example-landmarks button');
    expect(await page.isChecked('#input-landmarks')).toBe(true);
    await page.click('#example-photo button');
    await expect.poll(() => naturalWidth(page, '#preview-photo')).toBe(40);
    await page.click('#example-mask button');
    expect(await page.locator('#chosen-mask').innerText()).toBe('example-mask.bin (4 bytes)');
    await run(page);
    const received = { photo: '40x30 png', threshold: 0.8, prompt: 'a cat on a mat', options: { faces: 3, crop: true }, landmarks: true, mask: '4 bytes' };
    expect(await jsonResult(page)).toEqual({ faces: 1, received });

    const fresh = await openPage();
    await fresh.click('#use-all-examples');
    await run(fresh);
    expect(await jsonResult(fresh)).toEqual({ faces: 1, received });
    await screenshot(fresh, 'examples');
  });

  test('while the model runs, the button is disabled and the elapsed time counts; the result replaces them', async () => {
    const page = await openPage();
    let sent = 0;
    page.on('request', (request) => {
      if (request.url().endsWith('/predict')) sent++;
    });
    await page.click('#use-all-examples');
    await page.selectOption('#input-action', 'wait');
    await page.click('#run');
    const elapsed = page.locator('#status .elapsed');
    await elapsed.waitFor();
    expect(await page.isDisabled('#run')).toBe(true);
    expect(await page.locator('#run').innerText()).toBe('Running…');
    expect(await page.locator('#status').innerText()).toContain('Running the model…');
    expect(await page.locator('.output').getAttribute('aria-busy')).toBe('true');
    const first = await elapsed.innerText();
    expect(first).toMatch(/^\d+\.\d s$/);
    await expect.poll(() => elapsed.innerText(), { timeout: 20_000 }).not.toBe(first);
    // Ctrl+Enter while it runs sends nothing more.
    await page.focus('#input-prompt');
    await page.keyboard.press('Control+Enter');
    await screenshot(page, 'running');

    writeFileSync(gateFile, 'go');
    await page.locator('#result.success').waitFor();
    expect(await jsonResult(page)).toEqual({ waited: true });
    expect(await page.isDisabled('#run')).toBe(false);
    expect(await page.locator('#run').innerText()).toBe('Run');
    expect(await page.locator('#status').innerText()).toBe('');
    expect(await page.locator('.output').getAttribute('aria-busy')).toBe('false');
    expect(sent).toBe(1);
  });

  test('an image result is shown and downloads as face-finder-result.png', async () => {
    const page = await openPage();
    await page.click('#use-all-examples');
    await run(page, 'image');
    await expect.poll(() => naturalWidth(page, '#result.success img.output-image')).toBe(40);
    expect(await page.locator('#result .result-meta').innerText()).toMatch(/^image\/png, \d+ bytes · Done in /);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#result a.download')]);
    expect(download.suggestedFilename()).toBe('face-finder-result.png');
    const saved = readFileSync(await download.path());
    expect(await sharp(saved).metadata()).toMatchObject({ format: 'png', width: 40, height: 30 });
    await screenshot(page, 'image');
  });

  test('a file result (a PDF) is offered for download as face-finder-result.pdf', async () => {
    const page = await openPage();
    await page.click('#use-all-examples');
    await run(page, 'file');
    expect(await page.locator('#result.success .output-file').innerText()).toBe('The model returned a file (application/pdf).');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#result a.download')]);
    expect(download.suggestedFilename()).toBe('face-finder-result.pdf');
    expect(readFileSync(await download.path()).toString('latin1')).toMatch(/^%PDF-1\.1\n/);
  });

  test('a structured output shows each field: the image as an image, the data as JSON, the file as a download', async () => {
    const page = await openPage();
    await page.click('#use-all-examples');
    await run(page, 'fields');
    expect(await page.locator('#result .result-meta').innerText()).toMatch(/^Fields · Done in /);
    expect(await page.locator('#result .output-field-name').allInnerTexts()).toEqual(['faces', 'received', 'mask', 'report']);
    expect(JSON.parse(await page.locator('[data-field="faces"] pre.output-json').innerText())).toBe(1);
    expect(JSON.parse(await page.locator('[data-field="received"] pre.output-json').innerText())).toMatchObject({ photo: '40x30 png', threshold: 0.8 });
    await expect.poll(() => naturalWidth(page, '[data-field="mask"] img.output-image')).toBe(40);
    expect(await page.locator('[data-field="report"] img').count()).toBe(0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-field="report"] a.download')]);
    expect(download.suggestedFilename()).toBe('face-finder-report.pdf');
    expect(readFileSync(await download.path()).toString('latin1')).toMatch(/^%PDF-1\.1\n/);
    await screenshot(page, 'fields');
  });

  test("the result card's description follows the result shown: the model's while it matches, else what came", async () => {
    const page = await openPage();
    const line = page.locator('#output-kind');
    expect(await line.innerText()).toBe('Returns JSON: the faces found');
    await page.click('#use-all-examples');
    await run(page, 'image');
    expect(await line.innerText()).toBe('Returned an image (image/png)');
    await run(page, 'json');
    expect(await line.innerText()).toBe('Returns JSON: the faces found');
    await run(page, 'fields');
    expect(await line.innerText()).toBe('Returned the fields faces (JSON), received (JSON), mask (an image, image/png), report (a file, application/pdf)');
    await run(page, 'text');
    expect(await line.innerText()).toBe('Returned text');
  });

  test('a JSON result is pretty-printed and copied, with the clipboard API or without it', async () => {
    const page = await openPage();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.click('#use-all-examples');
    await run(page);
    const shown = await page.locator('#result pre.output-json').innerText();
    expect(shown).toBe(JSON.stringify(await jsonResult(page), null, 2));
    await page.click('#result button.copy');
    await page.locator('#result .copy-note', { hasText: 'Copied to the clipboard.' }).waitFor();
    expect(await inPage(page, 'navigator.clipboard.readText()')).toBe(shown);
    await screenshot(page, 'json');

    // A page served over plain http from another host has no clipboard API: the fallback copies.
    const bare = await openPage();
    await inPage(
      bare,
      `
      Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined });
      document.addEventListener('copy', () => {
        const active = document.activeElement;
        window.copied = active.value.slice(active.selectionStart, active.selectionEnd);
      });
    `,
    );
    await bare.click('#use-all-examples');
    await run(bare);
    await bare.click('#result button.copy');
    await bare.locator('#result .copy-note', { hasText: 'Copied to the clipboard.' }).waitFor();
    expect(await inPage(bare, 'window.copied')).toBe(shown);
    expect(await inPage(bare, 'document.activeElement.className')).toBe('secondary copy');
  });

  test('a text result is shown as text', async () => {
    const page = await openPage();
    await page.click('#use-all-examples');
    await run(page, 'text');
    expect(await page.locator('#result.success pre.output-text').innerText()).toBe('Found 1 face in a 40x30 png photo.\nPrompt: a cat on a mat');
    expect(await page.locator('#result .result-meta').innerText()).toMatch(/^Text · Done in /);
  });

  test('a model failure is a sentence', async () => {
    const page = await openPage();
    await page.click('#use-all-examples');
    await run(page, 'fail');
    expect(await page.locator('#result.failure .failure-title').innerText()).toBe('The model could not give a result');
    expect(await page.locator('#result .failure-message').innerText()).toBe('The model reported a failure: no face found in the image.');
    expect(await page.locator('#result .failure-code').innerText()).toBe('Error code AI_ERR_MODEL_FAILED (HTTP 500)');
    expect(await page.locator('.field.invalid').count()).toBe(0);
    await screenshot(page, 'model-failure');
  });

  test('an input the API refuses is a sentence, and its field is highlighted and focused until it is edited', async () => {
    const page = await openPage();
    await page.click('#use-all-examples');
    await page.fill('#input-options', '{"faces": ');
    await run(page);
    expect(await page.locator('#result.failure .failure-title').innerText()).toBe('Check the inputs');
    const message = await page.locator('#result .failure-message').innerText();
    expect(message).toMatch(/^The input options is not valid JSON \(.+\)\.$/);
    expect(message).not.toContain('{');
    expect(await page.locator('#field-options').getAttribute('class')).toContain('invalid');
    expect(await page.getAttribute('#input-options', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#input-options', 'aria-describedby')).toContain('error-options');
    expect(await page.locator('#error-options').innerText()).toMatch(/^options is not valid JSON \(.+\)\.$/);
    expect(await focusedId(page)).toBe('input-options');
    await screenshot(page, 'invalid-input');
    await page.keyboard.type('3}');
    expect(await page.locator('#field-options').getAttribute('class')).not.toContain('invalid');
    expect(await page.locator('#error-options').isHidden()).toBe(true);
    await run(page);
    expect(await jsonResult(page)).toMatchObject({ received: { options: { faces: 3 } } });
  });

  test('a missing required image is caught before sending, beside its input', async () => {
    const page = await openPage();
    let sent = 0;
    page.on('request', (request) => {
      if (request.url().endsWith('/predict')) sent++;
    });
    await page.click('#run');
    await page.locator('#result.failure').waitFor();
    expect(await page.locator('#result .failure-title').innerText()).toBe('Check the inputs');
    expect(await page.locator('#result .failure-message').innerText()).toMatch(/^The input photo was not accepted: .+\.$/);
    expect(await page.locator('#field-photo').getAttribute('class')).toContain('invalid');
    expect(sent).toBe(0);
  });

  test("a network failure, or an answer that is not the API's, says so in a sentence", async () => {
    const page = await openPage();
    await page.click('#use-all-examples');
    await page.route('**/predict', (route) => route.abort('connectionrefused'));
    await run(page);
    expect(await page.locator('#result.failure .failure-title').innerText()).toBe('The model could not be reached');
    expect(await page.locator('#result .failure-message').innerText()).toContain('the network failed or the server stopped');
    expect(await page.isDisabled('#run')).toBe(false);
    await screenshot(page, 'network-failure');

    await page.unroute('**/predict');
    await page.route('**/predict', (route) =>
      route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body>upstream connect error</body></html>' }),
    );
    await run(page);
    const text = await page.locator('#result.failure').innerText();
    expect(text).toContain('The server answered 502');
    expect(text).not.toContain('upstream');
    expect(text).not.toContain('<');

    // The queue's answer as the API gives it, with the wait it asks for.
    await page.unroute('**/predict');
    const queueFull = { id: 'x', status: 'failed', error: { code: 'AI_ERR_QUEUE_FULL', message: 'the queue is full (64 requests waiting); retry later' } };
    await page.route('**/predict', (route) =>
      route.fulfill({ status: 429, headers: { 'retry-after': '3' }, contentType: 'application/json', body: JSON.stringify(queueFull) }),
    );
    await run(page);
    expect(await page.locator('#result.failure .failure-title').innerText()).toBe('The model is busy');
    expect(await page.locator('#result .failure-message').innerText()).toBe('The queue is full (64 requests waiting); retry later. Try again in 3 seconds.');
  });

  test('the keyboard reaches the drop zone, opens the file picker, and Ctrl+Enter runs the model', async () => {
    // Playwright takes over the file picker reliably only when it listens before the page loads.
    let chooser: Promise<FileChooser> | undefined;
    const page = await openPage({}, (opening) => {
      chooser = opening.waitForEvent('filechooser');
    });
    await page.focus('#use-all-examples');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('input-photo');
    expect(await inPage(page, `getComputedStyle(document.querySelector('.drop[data-drop="photo"]')).outlineStyle`)).toBe('solid');
    await page.keyboard.press('Space');
    await (await chooser!).setFiles(photoPath);
    await expect.poll(() => naturalWidth(page, '#preview-photo')).toBe(120);
    // The "Remove" button comes next, then the example.
    await page.keyboard.press('Tab');
    expect(await inPage(page, 'document.activeElement.textContent')).toBe('Remove');
    await page.focus('#input-prompt');
    await page.keyboard.type('typed');
    await page.keyboard.press('Control+Enter');
    await page.locator('#result.success').waitFor();
    expect(await jsonResult(page)).toMatchObject({ received: { photo: '120x80 jpeg', prompt: 'typed' } });
    // Enter on the Run button; the button, disabled while it ran, has the focus again after.
    await page.selectOption('#input-action', 'text');
    await page.focus('#run');
    await page.keyboard.press('Enter');
    await page.locator('#result.success pre.output-text').waitFor();
    expect(await focusedId(page)).toBe('run');
  });

  test('on a phone in dark mode: one column, no sideways scrolling, dark colours', async () => {
    const page = await openPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, hasTouch: true });
    expect(await inPage(page, 'getComputedStyle(document.body).backgroundColor')).toBe('rgb(17, 20, 26)');
    await page.click('#use-all-examples');
    await run(page);
    const form = (await page.locator('#form').boundingBox())!;
    const output = (await page.locator('.output').boundingBox())!;
    expect(output.y).toBeGreaterThanOrEqual(form.y + form.height);
    expect(await inPage(page, 'document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await screenshot(page, 'phone-dark');
  });

  test("the interactive docs render from the package's own Swagger UI", async () => {
    const page = await openPage();
    await page.goto(`${server.url}/docs`);
    await page.locator('.opblock-summary-path', { hasText: '/predict' }).first().waitFor();
    await page.screenshot({ path: join(artifacts, 'http-docs.png') });
  });

  test('the docs\' "Try it out" on /predict: a form with a file picker for the photo, only chosen values filled in, and it runs', async () => {
    const page = await openPage();
    await page.goto(`${server.url}/docs`);
    const predict = page.locator('.opblock-post', { has: page.locator('.opblock-summary-path', { hasText: /^\/predict$/ }) });
    await predict.locator('.opblock-summary').click();
    await predict.locator('button.try-out__btn').click();
    const row = (name: string) => predict.locator(`tr[data-property-name="${name}"]`);
    await row('photo').waitFor();
    expect(await predict.locator('.body-param-content-type select').inputValue()).toBe('multipart/form-data');
    await row('photo').locator('input[type=file]').setInputFiles(photoPath);
    expect(await row('mask').locator('input[type=file]').count()).toBe(1);
    // Each input's example or default; a field with neither would be blank (Swagger UI's own would write "string").
    expect(await row('prompt').locator('input').first().inputValue()).toBe('a cat on a mat');
    expect(await row('threshold').locator('input').first().inputValue()).toBe('0.8');
    expect(await row('options').locator('input, textarea').first().inputValue()).toBe('{"faces":3,"crop":true}');
    await predict.locator('button.execute').click();
    const body = predict.locator('.live-responses-table .response-col_description pre').first();
    await body.waitFor();
    const answer = JSON.parse(await body.innerText()) as { status: string; output: { received: Record<string, unknown> } };
    expect(answer.status).toBe('succeeded');
    expect(answer.output.received).toMatchObject({ photo: '120x80 jpeg', prompt: 'a cat on a mat', threshold: 0.8, options: { faces: 3, crop: true } });
    await page.screenshot({ path: join(artifacts, 'http-docs-try-it-out.png'), fullPage: true });
  });

  test('with AUTH_TOKEN, the page asks for the token once per tab, refuses a wrong one, and sends it; the docs use it too', async () => {
    const guarded = await startServer(fixture('page-model.mjs'), { GATE_FILE: gateFile, AUTH_TOKEN: 'browser-token-7c1d' });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const external: string[] = [];
      context.on('request', (request) => {
        if (/^https?:/.test(request.url()) && !request.url().startsWith(guarded.url)) external.push(request.url());
      });
      opened.push({ context, external });
      const page = await context.newPage();
      await page.goto(guarded.url);
      // The prompt, not the page: nothing of the model is shown before the token.
      await page.locator('#token').waitFor();
      expect(await page.locator('#input-action').count()).toBe(0);
      await page.fill('#token', 'not-the-token');
      await page.click('#token-submit');
      await page.locator('#token-error').waitFor();
      await screenshot(page, 'token-prompt');
      await page.fill('#token', 'browser-token-7c1d');
      await page.click('#token-submit');
      await page.locator('#use-all-examples').waitFor();
      await page.click('#use-all-examples');
      await run(page);
      expect(await jsonResult(page)).toBeTruthy();
      // Once per tab: a reload opens the page without asking.
      await page.reload();
      await page.locator('#run').waitFor();
      expect(await page.locator('#token').count()).toBe(0);
      // The docs page, opened the same way, reads its document with the stored token.
      await page.goto(`${guarded.url}/docs`);
      await page.locator('.opblock-summary-path', { hasText: '/predict' }).first().waitFor();
      // Without the token a request of the page is refused: the prompt's token is what opened it.
      const refused = await inPage<number>(page, "fetch('info').then((response) => response.status)");
      expect(refused).toBe(401);
    } finally {
      await guarded.stop();
    }
  });
});
