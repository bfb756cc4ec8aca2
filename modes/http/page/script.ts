// The page's script, inline and dependency-free so that the page works in a container with no
// network. It is plain browser JavaScript in a string (the project compiles without DOM types),
// kept free of backticks and template placeholders.
export const script = String.raw`
(() => {
'use strict';
const data = JSON.parse(document.getElementById('page-data').textContent);
const form = document.getElementById('form');
const runButton = document.getElementById('run');
const output = document.querySelector('.output');
const status = document.getElementById('status');
const result = document.getElementById('result');
const names = Object.keys(data.types);
const byId = (id) => document.getElementById(id);
const controlOf = (name) => byId('input-' + name);
const isBinary = (name) => data.types[name] === 'image' || data.types[name] === 'file';
let objectUrls = [];

// --- descriptions and errors on fields ---------------------------------------------------------

// A control is described by its error (when shown), its help, its file's name and hint, and its example.
function describe(name) {
  const control = controlOf(name);
  if (!control) return;
  const ids = ['error-', 'help-', 'chosen-', 'hint-', 'example-'].map((prefix) => prefix + name).filter((id) => {
    const element = byId(id);
    return element && !element.hidden;
  });
  control.setAttribute('aria-describedby', ids.join(' '));
}

function showFieldError(name, message) {
  const field = byId('field-' + name);
  const error = byId('error-' + name);
  const control = controlOf(name);
  if (!field || !error || !control) return false;
  field.classList.add('invalid');
  control.setAttribute('aria-invalid', 'true');
  error.textContent = message;
  error.hidden = false;
  describe(name);
  return true;
}

function clearFieldError(name) {
  const field = byId('field-' + name);
  if (!field || !field.classList.contains('invalid')) return;
  field.classList.remove('invalid');
  controlOf(name).removeAttribute('aria-invalid');
  const error = byId('error-' + name);
  error.hidden = true;
  error.textContent = '';
  describe(name);
}

function focusField(name) {
  const field = byId('field-' + name);
  if (field) field.scrollIntoView({ block: 'center' });
  const control = controlOf(name);
  if (control) control.focus({ preventScroll: true });
}

for (const name of names) describe(name);
form.addEventListener('input', (event) => {
  const field = event.target.closest && event.target.closest('.field');
  if (field) clearFieldError(field.dataset.field);
});
form.addEventListener('change', (event) => {
  const field = event.target.closest && event.target.closest('.field');
  if (field) clearFieldError(field.dataset.field);
});

// --- files: pick, drop, paste, preview ---------------------------------------------------------

function formatBytes(bytes) {
  if (bytes < 1024) return bytes + ' bytes';
  if (bytes < 1048576) return (bytes / 1024).toFixed(bytes < 10240 ? 1 : 0) + ' kB';
  return (bytes / 1048576).toFixed(1) + ' MB';
}

const extensions = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/gif': 'gif', 'image/avif': 'avif',
  'image/tiff': 'tif', 'image/bmp': 'bmp', 'image/svg+xml': 'svg', 'image/x-icon': 'ico', 'image/vnd.microsoft.icon': 'ico',
  'audio/wav': 'wav', 'audio/x-wav': 'wav', 'audio/wave': 'wav', 'audio/mpeg': 'mp3', 'audio/ogg': 'ogg', 'audio/flac': 'flac',
  'audio/mp4': 'm4a', 'audio/webm': 'weba', 'video/mp4': 'mp4', 'video/webm': 'webm', 'video/ogg': 'ogv', 'video/quicktime': 'mov',
  'application/json': 'json', 'application/pdf': 'pdf', 'application/zip': 'zip', 'application/gzip': 'gz',
  'application/octet-stream': 'bin', 'application/x-npy': 'npy', 'application/xml': 'xml', 'text/plain': 'txt',
  'text/csv': 'csv', 'text/html': 'html', 'text/markdown': 'md', 'text/xml': 'xml', 'model/gltf-binary': 'glb',
};

// The file extension for a media type: the known ones, else the subtype when it looks like one.
function extensionOf(mediaType) {
  const type = mediaType.split(';')[0].trim().toLowerCase();
  if (extensions[type]) return extensions[type];
  if (type.endsWith('+json')) return 'json';
  if (type.endsWith('+xml')) return 'xml';
  const subtype = (type.split('/')[1] || '').replace(/^x-/, '').split('+')[0];
  return /^[a-z0-9]{1,8}$/.test(subtype) ? subtype : 'bin';
}

function bytesOfDataUrl(url) {
  const comma = url.indexOf(',');
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const type = meta.replace(/;base64$/i, '').split(';')[0] || 'text/plain';
  if (!/;base64$/i.test(meta)) return { type, bytes: new TextEncoder().encode(decodeURIComponent(payload)) };
  const binary = atob(payload.replace(/\s+/g, ''));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return { type, bytes };
}

function fileFromDataUrl(url, baseName) {
  const { type, bytes } = bytesOfDataUrl(url);
  return new File([bytes], baseName + '.' + extensionOf(type), { type });
}

function showChosenFile(name) {
  const input = controlOf(name);
  const file = input.files[0];
  const zone = input.closest('.drop');
  const chosen = byId('chosen-' + name);
  const preview = byId('preview-' + name);
  const remove = form.querySelector('[data-clear="' + CSS.escape(name) + '"]');
  if (preview && preview.src.startsWith('blob:')) URL.revokeObjectURL(preview.src);
  zone.classList.toggle('has-file', Boolean(file));
  remove.hidden = !file;
  chosen.hidden = !file;
  chosen.textContent = file ? file.name + ' (' + formatBytes(file.size) + ')' : '';
  if (preview) {
    if (file) {
      preview.alt = 'Preview of ' + file.name;
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    } else {
      preview.removeAttribute('src');
      preview.hidden = true;
    }
  }
  describe(name);
}

function setFile(name, file) {
  const input = controlOf(name);
  const transfer = new DataTransfer();
  if (file) transfer.items.add(file);
  input.files = transfer.files;
  clearFieldError(name);
  showChosenFile(name);
}

// A file from a drop or a paste: an image input refuses what is plainly not an image, at once.
function takeFile(name, file) {
  if (data.types[name] === 'image' && file.type && !file.type.startsWith('image/')) {
    showFieldError(name, file.name + ' is ' + file.type + ', not an image; choose a JPEG, PNG, WebP, GIF, TIFF or AVIF image.');
    return;
  }
  setFile(name, file);
}

const hasFiles = (event) => Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types || []).includes('Files');
const zones = Array.from(form.querySelectorAll('.drop'));

for (const zone of zones) {
  const name = zone.dataset.drop;
  const input = controlOf(name);
  input.addEventListener('change', () => showChosenFile(name));
  zone.addEventListener('click', (event) => {
    if (event.target !== input) input.click();
  });
  zone.addEventListener('dragenter', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    event.stopPropagation();
    zone.classList.remove('dragging');
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) {
      takeFile(name, file);
      input.focus({ preventScroll: true });
    }
  });
}
for (const button of form.querySelectorAll('[data-clear]')) {
  button.addEventListener('click', () => {
    setFile(button.dataset.clear, null);
    controlOf(button.dataset.clear).focus();
  });
}

// A file dropped beside the zones would make the browser leave the page to open it; with a single
// file input it is plain what the file is for.
window.addEventListener('dragover', (event) => {
  if (hasFiles(event)) event.preventDefault();
});
window.addEventListener('drop', (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  const file = event.dataTransfer.files[0];
  if (file && zones.length === 1) takeFile(zones[0].dataset.drop, file);
});

// Ctrl+V of an image (a screenshot, an image copied in another page) goes to the file input that
// has the focus, else to the first empty one that takes it; pasting text is left alone.
function pasteTarget(file) {
  const focused = zones.find((zone) => zone.contains(document.activeElement));
  if (focused) return focused.dataset.drop;
  const fitting = zones.map((zone) => zone.dataset.drop).filter((name) => data.types[name] === 'file' || !file.type || file.type.startsWith('image/'));
  return fitting.find((name) => controlOf(name).files.length === 0) || fitting[0];
}
document.addEventListener('paste', (event) => {
  const clipboard = event.clipboardData;
  if (!clipboard) return;
  let file = clipboard.files && clipboard.files[0];
  if (!file) {
    const item = Array.from(clipboard.items || []).find((entry) => entry.kind === 'file');
    file = item && item.getAsFile();
  }
  if (!file) return;
  // Typing in a text box, a paste that also carries text is meant for the text box.
  const active = document.activeElement;
  const typing = active && (active.tagName === 'TEXTAREA' || (active.tagName === 'INPUT' && active.type !== 'file'));
  if (typing && Array.from(clipboard.types || []).includes('text/plain')) return;
  const name = pasteTarget(file);
  if (!name) return;
  event.preventDefault();
  takeFile(name, file);
});

// --- examples ----------------------------------------------------------------------------------

function useExample(name) {
  const value = data.examples[name];
  const type = data.types[name];
  const control = controlOf(name);
  if (value === undefined || !control) return;
  if (isBinary(name)) {
    setFile(name, fileFromDataUrl(value, 'example-' + name.replace(/[^\w.-]+/g, '-')));
    return;
  }
  if (type === 'boolean') control.checked = value === true;
  else if (type === 'json') control.value = JSON.stringify(value, null, 2);
  else control.value = String(value);
  clearFieldError(name);
}
for (const button of form.querySelectorAll('[data-example]')) {
  button.addEventListener('click', () => useExample(button.dataset.example));
}
const allExamples = byId('use-all-examples');
if (allExamples) allExamples.addEventListener('click', () => Object.keys(data.examples).forEach(useExample));

// --- running -----------------------------------------------------------------------------------

let running = false;
let timer = 0;

function formatSeconds(seconds) {
  if (seconds < 60) return seconds.toFixed(1) + ' s';
  const minutes = Math.floor(seconds / 60);
  return minutes + ' min ' + String(Math.floor(seconds % 60)).padStart(2, '0') + ' s';
}

// A finished run's times: milliseconds under a second, where tenths of a second would say 0.0.
const formatDuration = (seconds) => (seconds < 1 ? Math.max(1, Math.round(seconds * 1000)) + ' ms' : formatSeconds(seconds));

function setRunning(on, started) {
  running = on;
  runButton.disabled = on;
  runButton.textContent = on ? 'Running…' : 'Run';
  output.classList.toggle('running', on);
  output.setAttribute('aria-busy', String(on));
  clearInterval(timer);
  if (!on) {
    status.replaceChildren();
    return;
  }
  const spinner = document.createElement('span');
  spinner.className = 'spinner';
  spinner.setAttribute('aria-hidden', 'true');
  const text = document.createElement('span');
  text.textContent = 'Running the model…';
  // The counter is for the eye: a screen reader hears "Running the model" once, not every tick.
  const elapsed = document.createElement('span');
  elapsed.className = 'elapsed';
  elapsed.id = 'elapsed';
  elapsed.setAttribute('aria-hidden', 'true');
  const tick = () => { elapsed.textContent = formatSeconds((performance.now() - started) / 1000); };
  tick();
  status.replaceChildren(spinner, text, elapsed);
  timer = setInterval(tick, 100);
}

// The browser's own checks (a number that is not one, out of bounds, a required file), before the
// request: an unparsable number would otherwise be sent as nothing.
function firstInvalid() {
  for (const name of names) {
    const control = controlOf(name);
    if (control && !control.checkValidity()) return { name, message: name + ': ' + control.validationMessage };
  }
  return undefined;
}

// With AUTH_TOKEN set, the token prompt that opened this page has kept the token for this tab.
const tokenKey = 'ai-integration-token';
function withToken(headers) {
  const token = sessionStorage.getItem(tokenKey);
  if (token) headers.authorization = 'Bearer ' + token;
  return headers;
}

function formData() {
  const body = new FormData(form);
  for (const [key, value] of Array.from(body.entries())) {
    if (value instanceof File && value.name === '' && value.size === 0) body.delete(key);
  }
  return body;
}

async function run() {
  if (running) return;
  for (const name of names) clearFieldError(name);
  const invalid = firstInvalid();
  if (invalid) {
    showFailure({ title: 'Check the inputs', message: invalid.message, field: invalid.name });
    return;
  }
  const started = performance.now();
  setRunning(true, started);
  // On a phone the result is below the form: bring the running state into view.
  const box = output.getBoundingClientRect();
  if (box.top > innerHeight || box.bottom < 0) output.scrollIntoView({ block: 'start', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
  let response;
  let text;
  try {
    // A streaming model's chunks come as server-sent events and show as they come; anything the
    // server refuses before running the model (422, 429) still answers JSON.
    response = await fetch('predict', { method: 'POST', body: formData(), headers: withToken({ accept: 'text/event-stream, application/json;q=0.9' }) });
    if (response.ok && (response.headers.get('content-type') || '').startsWith('text/event-stream')) {
      const done = await readEvents(response);
      finish();
      if (done && done.status === 'succeeded') showSuccess(done, (performance.now() - started) / 1000);
      else showFailure(describeFailure({ status: 500, statusText: '', headers: new Headers() }, done || { error: { code: 'AI_ERR_INTERNAL', message: 'the stream of results ended early' } }));
      return;
    }
    text = await response.text();
  } catch (error) {
    finish();
    showFailure({
      title: 'The model could not be reached',
      message: 'The request did not get an answer: the network failed or the server stopped. Check that the model is still running, then try again.',
    });
    return;
  }
  finish();
  // A token that no longer opens the service (AUTH_TOKEN changed): forget it, so that reloading asks again.
  if (response.status === 401) sessionStorage.removeItem(tokenKey);
  let answer = null;
  try { answer = JSON.parse(text); } catch (error) { answer = null; }
  if (response.ok && answer && answer.status === 'succeeded') showSuccess(answer, (performance.now() - started) / 1000);
  else showFailure(describeFailure(response, answer));
}

// Reads the server-sent events of a prediction: each 'output' event is a chunk, shown as the
// result grows; 'done' carries the whole prediction, which is returned.
async function readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const chunks = [];
  let buffer = '';
  let done = null;
  for (;;) {
    const step = await reader.read();
    if (step.done) return done;
    buffer += step.value;
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let payload = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) payload += line.slice(6);
      }
      if (payload === '') continue;
      const value = JSON.parse(payload);
      if (event === 'output') {
        chunks.push(value);
        showPartial(chunks);
      } else if (event === 'done') {
        done = value;
      }
    }
  }
}

// The result so far, collected as the final one will be: text joined, JSON as a list, the latest image.
function showPartial(chunks) {
  resetResult('success partial');
  const last = chunks[chunks.length - 1];
  const meta = element('p', 'result-meta', 'Streaming · ' + chunks.length + (chunks.length === 1 ? ' chunk' : ' chunks') + ' so far');
  let body;
  if (chunks.every((chunk) => typeof chunk === 'string' && !chunk.startsWith('data:'))) {
    body = element('pre', 'output-text', chunks.join(''));
  } else if (typeof last === 'string' && last.startsWith('data:')) {
    const { type, bytes } = bytesOfDataUrl(last);
    body = mediaElement(new Blob([bytes], { type }), type);
  } else {
    body = element('pre', 'output-json', JSON.stringify(chunks, null, 2));
  }
  result.append(meta, body);
}

function finish() {
  const hadFocus = document.activeElement === runButton || document.activeElement === document.body;
  setRunning(false);
  // A disabled button loses the focus; give it back, so the keyboard stays where it was.
  if (hadFocus) runButton.focus();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  run();
});
form.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run();
  }
});

// --- results -----------------------------------------------------------------------------------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function resetResult(kind) {
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls = [];
  result.className = kind;
  result.replaceChildren();
}

const isJsonType = (type) => type === 'application/json' || type.endsWith('+json');

function downloadName(mediaType) {
  const base = String(data.model).replace(/[^\w.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'model';
  return base + '-result.' + extensionOf(mediaType);
}

function downloadLink(blob, mediaType) {
  const url = URL.createObjectURL(blob);
  objectUrls.push(url);
  const link = element('a', 'button secondary download', 'Download');
  link.href = url;
  link.download = downloadName(mediaType);
  link.setAttribute('aria-label', 'Download ' + link.download);
  link.title = link.download;
  return link;
}

async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (error) {
    // Refused (no permission, no focus): the fallback below may still work.
  }
  // Pages served over plain http from another host have no clipboard API.
  const previous = document.activeElement;
  const area = element('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'visually-hidden';
  document.body.append(area);
  area.select();
  let copied = false;
  try { copied = document.execCommand('copy'); } catch (error) { copied = false; }
  area.remove();
  if (previous && previous.focus) previous.focus();
  return copied;
}

function copyButton(pre) {
  const button = element('button', 'secondary copy', 'Copy');
  button.type = 'button';
  const note = element('span', 'copy-note');
  note.setAttribute('role', 'status');
  button.addEventListener('click', async () => {
    const copied = await copyText(pre.textContent);
    if (copied) {
      note.textContent = 'Copied to the clipboard.';
    } else {
      // Leave the text selected, so Ctrl+C finishes the job.
      const range = document.createRange();
      range.selectNodeContents(pre);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      note.textContent = 'The browser refused to copy; the text is selected, press Ctrl+C.';
    }
  });
  return [button, note];
}

function showSuccess(answer, seconds) {
  resetResult('success');
  const contentType = String(answer.content_type || '');
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  const predictMs = answer.metrics && typeof answer.metrics.predict_time_ms === 'number' ? answer.metrics.predict_time_ms : undefined;
  const timing = 'Done in ' + formatDuration(seconds) + (predictMs === undefined ? '' : ' (the model took ' + formatDuration(predictMs / 1000) + ')');
  const meta = element('p', 'result-meta');
  const actions = element('div', 'result-actions');
  const body = [];
  if (isJsonType(mediaType)) {
    meta.textContent = 'JSON · ' + timing;
    const json = JSON.stringify(answer.output, null, 2);
    const pre = element('pre', 'output-json', json);
    pre.tabIndex = 0;
    pre.setAttribute('aria-label', 'JSON result');
    body.push(pre);
    actions.append(...copyButton(pre), downloadLink(new Blob([json + '\n'], { type: 'application/json' }), 'application/json'));
  } else if (typeof answer.output === 'string' && answer.output.startsWith('data:')) {
    const { bytes } = bytesOfDataUrl(answer.output);
    const blob = new Blob([bytes], { type: mediaType });
    meta.textContent = (mediaType || 'binary data') + ', ' + formatBytes(bytes.length) + ' · ' + timing;
    body.push(mediaElement(blob, mediaType));
    actions.append(downloadLink(blob, mediaType));
  } else {
    meta.textContent = 'Text · ' + timing;
    const pre = element('pre', 'output-text', String(answer.output));
    pre.tabIndex = 0;
    pre.setAttribute('aria-label', 'Text result');
    body.push(pre);
    actions.append(...copyButton(pre));
  }
  result.append(meta, ...body, actions);
}

// An image, audio or video result is shown as itself; any other file as a line to download.
function mediaElement(blob, mediaType) {
  const url = URL.createObjectURL(blob);
  objectUrls.push(url);
  const unsupported = () => element('p', 'output-file', 'This browser cannot show ' + mediaType + '; download it to open it.');
  if (mediaType.startsWith('image/')) {
    const image = element('img', 'output-image');
    image.alt = 'The result image';
    image.addEventListener('error', () => image.replaceWith(unsupported()));
    image.src = url;
    return image;
  }
  if (mediaType.startsWith('audio/') || mediaType.startsWith('video/')) {
    const media = element(mediaType.startsWith('audio/') ? 'audio' : 'video', 'output-media');
    media.controls = true;
    media.addEventListener('error', () => media.replaceWith(unsupported()));
    media.src = url;
    return media;
  }
  return element('p', 'output-file', 'The model returned a file (' + (mediaType || 'binary data') + ').');
}

// --- failures ----------------------------------------------------------------------------------

// A message as a sentence: a capital letter (unless it starts with an input's name) and a full stop.
function sentence(message, field) {
  let text = String(message).trim().replace(/\s+/g, ' ');
  if (text.length > 600) text = text.slice(0, 597) + '…';
  if (!(field && text.startsWith(field))) text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(text) ? text : text + '.';
}

const titles = {
  400: 'The request was not understood',
  401: 'The access token was refused; reload the page to enter it again',
  413: 'The input is too large',
  415: 'The request was not understood',
  422: 'Check the inputs',
  429: 'The model is busy',
  503: 'The model is not ready',
  504: 'The model took too long',
};

function describeFailure(response, answer) {
  const error = answer && answer.error && typeof answer.error.message === 'string' ? answer.error : undefined;
  const code = error && typeof error.code === 'string' ? error.code : undefined;
  let title = titles[response.status] || (response.status >= 500 ? 'The model failed' : 'The request failed');
  if (code === 'AI_ERR_MODEL_FAILED') title = 'The model could not give a result';
  let message;
  if (error) message = error.message;
  else message = 'The server answered ' + response.status + (response.statusText ? ' (' + response.statusText + ')' : '') + ' without saying why.';
  const retry = Number(response.headers.get('retry-after'));
  if (retry > 0) message = sentence(message) + ' Try again in ' + retry + (retry === 1 ? ' second.' : ' seconds.');
  const field = error && typeof error.field === 'string' && Object.prototype.hasOwnProperty.call(data.types, error.field) ? error.field : undefined;
  return { title, message, field, code: code ? code + ' (HTTP ' + response.status + ')' : 'HTTP ' + response.status };
}

const lowerFirst = (text) => (/^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text);

function showFailure(failure) {
  resetResult('failure');
  const field = failure.field;
  let message = sentence(failure.message, field);
  if (field) {
    // The API says "strength: expected ..."; beside the input, the name goes without saying.
    const raw = String(failure.message).trim();
    const prefix = field + ': ';
    const rest = raw.startsWith(prefix) ? raw.slice(prefix.length) : undefined;
    if (rest === undefined) {
      showFieldError(field, message);
    } else if (/^(is|has|must) /.test(rest)) {
      showFieldError(field, sentence(field + ' ' + rest, field));
      message = sentence('the input ' + field + ' ' + rest);
    } else {
      showFieldError(field, sentence(rest));
      message = sentence('the input ' + field + ' was not accepted: ' + lowerFirst(rest));
    }
  }
  const title = element('p', 'failure-title', failure.title);
  const text = element('p', 'failure-message', message);
  result.append(title, text);
  if (failure.code) result.append(element('p', 'failure-code', 'Error code ' + failure.code));
  if (field) focusField(field);
}
})();
`;
