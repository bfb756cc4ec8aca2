import { describeExpected } from '../../src/convert-inputs.js';
import { isBinaryType, mustBeGiven } from '../../src/schema.js';
import type { InputSpec, InputsSchema } from '../../src/types.js';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

function control(name: string, spec: InputSpec): string {
  const id = `input-${escapeHtml(name)}`;
  const attrs = `id="${id}" name="${escapeHtml(name)}"${mustBeGiven(spec) ? ' required' : ''}`;
  const value = 'default' in spec && spec.default !== undefined ? spec.default : undefined;
  switch (spec.type) {
    case 'image':
      return `<input type="file" accept="image/*" ${attrs} data-preview="preview-${escapeHtml(name)}"><img class="preview" id="preview-${escapeHtml(name)}" alt="" hidden>`;
    case 'file':
      return `<input type="file" ${attrs}>`;
    case 'text':
      return `<textarea ${attrs} rows="3">${escapeHtml(String(value ?? ''))}</textarea>`;
    case 'number':
    case 'integer': {
      const bounds = `${spec.min === undefined ? '' : ` min="${spec.min}"`}${spec.max === undefined ? '' : ` max="${spec.max}"`}`;
      const step = spec.type === 'integer' ? '1' : 'any';
      return `<input type="number" step="${step}"${bounds} ${attrs}${value === undefined ? '' : ` value="${escapeHtml(String(value))}"`}>`;
    }
    case 'boolean':
      // An unchecked box sends nothing; the hidden field before it sends "false" in its place.
      return `<input type="hidden" name="${escapeHtml(name)}" value="false"><input type="checkbox" id="${id}" name="${escapeHtml(name)}" value="true"${value === true ? ' checked' : ''}>`;
    case 'choice':
      return `<select ${attrs}>${spec.choices
        .map((choice) => `<option value="${escapeHtml(choice)}"${choice === value ? ' selected' : ''}>${escapeHtml(choice)}</option>`)
        .join('')}</select>`;
    case 'json':
      return `<textarea ${attrs} rows="4" spellcheck="false">${value === undefined ? '' : escapeHtml(JSON.stringify(value, null, 2))}</textarea>`;
  }
}

function field(name: string, spec: InputSpec): string {
  const required = mustBeGiven(spec) ? ' <span class="required" title="required">*</span>' : '';
  const help = spec.description ? `${escapeHtml(spec.description)} · ` : '';
  return `<div class="field field-${spec.type}">
  <label for="input-${escapeHtml(name)}">${escapeHtml(name)}${required}</label>
  ${control(name, spec)}
  <small>${help}<span class="expected">${escapeHtml(describeExpected(spec))}</span></small>
</div>`;
}

// The page's script: previews chosen images, posts the form to /predict and renders the answer.
// Inline and dependency-free, so the page works in a container with no network.
const script = `
const form = document.getElementById('form');
const result = document.getElementById('result');
for (const picker of document.querySelectorAll('input[data-preview]')) {
  picker.addEventListener('change', () => {
    const preview = document.getElementById(picker.dataset.preview);
    const file = picker.files[0];
    if (file) { preview.src = URL.createObjectURL(file); preview.hidden = false; } else { preview.hidden = true; }
  });
}
function show(kind, build) {
  result.className = kind;
  result.replaceChildren();
  build(result);
}
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = form.querySelector('button');
  button.disabled = true;
  show('pending', (box) => { box.textContent = 'Running the model…'; });
  try {
    const body = new FormData(form);
    const response = await fetch('predict', { method: 'POST', body, headers: { accept: 'application/json' } });
    const answer = await response.json();
    if (!response.ok || answer.status !== 'succeeded') {
      const error = answer.error || { code: 'HTTP ' + response.status, message: response.statusText };
      show('failure', (box) => {
        const title = document.createElement('strong');
        title.textContent = 'Failed (' + response.status + ' ' + error.code + ')';
        const message = document.createElement('p');
        message.className = 'message';
        message.textContent = error.message + (error.field ? ' [field: ' + error.field + ']' : '');
        box.append(title, message);
      });
      return;
    }
    show('success', (box) => {
      const meta = document.createElement('p');
      meta.className = 'meta';
      meta.textContent = answer.content_type + ' in ' + Math.round(answer.metrics.predict_time_ms) + ' ms';
      box.append(meta);
      if (answer.content_type.startsWith('image/')) {
        const image = document.createElement('img');
        image.className = 'output-image';
        image.alt = 'result';
        image.src = answer.output;
        box.append(image);
      } else {
        const pre = document.createElement('pre');
        pre.className = 'output-text';
        pre.textContent = typeof answer.output === 'string' ? answer.output : JSON.stringify(answer.output, null, 2);
        box.append(pre);
      }
    });
  } catch (error) {
    show('failure', (box) => { box.textContent = 'The request failed: ' + error.message; });
  } finally {
    button.disabled = false;
  }
});
`;

const style = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
main { max-width: 760px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin-bottom: .25rem; }
.links { color: #5a6272; margin-top: 0; }
form, #result { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 1rem 1.25rem; }
.field { display: grid; gap: .25rem; margin-bottom: 1rem; }
label { font-weight: 600; }
.required { color: #c0392b; }
small { color: #5a6272; }
textarea, input[type=number], select { font: inherit; padding: .4rem; border: 1px solid #c6ccd6; border-radius: 4px; }
input[type=checkbox] { justify-self: start; width: 1.1rem; height: 1.1rem; }
.preview { max-width: 240px; max-height: 180px; border-radius: 4px; margin-top: .25rem; }
button { font: inherit; padding: .5rem 1.25rem; border: 0; border-radius: 4px; background: #2457c5; color: #fff; cursor: pointer; }
button:disabled { opacity: .6; }
#result { margin-top: 1rem; }
#result:empty { display: none; }
.failure { border-color: #e3a5a0; background: #fdf1f0; color: #8a1f17; }
.output-image { max-width: 100%; }
pre { white-space: pre-wrap; word-break: break-word; background: #f3f5f8; padding: .75rem; border-radius: 4px; }
`;

/** The web page: a form built from the schema that posts to /predict and renders the result. */
export function renderPage(schema: InputsSchema, title: string): string {
  const multipart = Object.values(schema).some((spec) => isBinaryType(spec.type));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="links"><a href="docs">API docs</a> · <a href="openapi.json">openapi.json</a> · <a href="info">info</a></p>
<form id="form" method="post" action="predict"${multipart ? ' enctype="multipart/form-data"' : ''}>
${Object.entries(schema).map(([name, spec]) => field(name, spec)).join('\n')}
<button type="submit">Run</button>
</form>
<div id="result" aria-live="polite"></div>
</main>
<script>${script}</script>
</body>
</html>
`;
}
