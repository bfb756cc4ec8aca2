import { describeExpected } from '../../../src/inputs/convert-inputs.js';
import { mustBeGiven } from '../../../src/inputs/schema.js';
import type { InputSpec } from '../../../src/types.js';

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

/** JSON for a `<script type="application/json">`: `<` escaped, so no value can close the element. */
export const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** An input's `example`, when the page can fill it in: any value for typed inputs, a data: URL for binary ones. */
export function exampleOf(spec: InputSpec): unknown {
  const example: unknown = spec.example;
  if (example === undefined) return undefined;
  if (spec.type === 'image' || spec.type === 'file') return typeof example === 'string' && /^data:[^,]*,/i.test(example) ? example : undefined;
  return example;
}

// The attribute order of the controls is stable (tests and users' scripts find them by it); the
// script adds aria-describedby, so the markup needs none.
function control(name: string, spec: InputSpec): string {
  const id = `input-${escapeHtml(name)}`;
  const attrs = `id="${id}" name="${escapeHtml(name)}"${mustBeGiven(spec) ? ' required' : ''}`;
  const value = 'default' in spec && spec.default !== undefined ? spec.default : undefined;
  switch (spec.type) {
    case 'image':
    case 'file':
      return dropZone(name, spec.type, attrs);
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

// The file input stays the real control (focus, keyboard, screen readers, the form's data); the
// zone around it takes drops, clicks and shows the preview.
function dropZone(name: string, type: 'image' | 'file', attrs: string): string {
  const key = escapeHtml(name);
  const what = type === 'image' ? 'an image' : 'a file';
  const accept = type === 'image' ? ' accept="image/*"' : '';
  return `<div class="drop" data-drop="${key}">
  <input type="file"${accept} ${attrs} class="drop-input"${type === 'image' ? ` data-preview="preview-${key}"` : ''}>
  ${type === 'image' ? `<img class="preview" id="preview-${key}" alt="" hidden>` : ''}
  <span class="drop-hint" id="hint-${key}"><span class="fine-pointer"><strong>Drop ${what} here</strong>, paste one (Ctrl+V) or </span><span class="pick">choose ${type === 'image' ? 'an image' : 'a file'}</span></span>
  <span class="drop-chosen" id="chosen-${key}" hidden></span>
</div>
<button type="button" class="link-button clear-file" data-clear="${key}" hidden>Remove</button>`;
}

function exampleMarkup(name: string, spec: InputSpec, example: unknown): string {
  const key = escapeHtml(name);
  let shown: string;
  if (spec.type === 'image') shown = `<img class="example-thumb" src="${escapeHtml(example as string)}" alt="the example image">`;
  else if (spec.type === 'file') shown = `<span>${escapeHtml(describeDataUrl(example as string))}</span>`;
  else {
    const text = typeof example === 'string' && spec.type !== 'json' ? example : JSON.stringify(example);
    shown = `<code>${escapeHtml(text.length > 120 ? `${text.slice(0, 117)}…` : text)}</code>`;
  }
  return `<p class="example" id="example-${key}"><span class="example-label">Example:</span> ${shown} <button type="button" class="secondary use-example" data-example="${key}" aria-label="Use example for ${key}">Use example</button></p>`;
}

/** "a file (audio/wav, 12 kB)" for a data: URL. */
function describeDataUrl(url: string): string {
  const comma = url.indexOf(',');
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const base64 = /;base64$/i.test(meta);
  const type = meta.replace(/;base64$/i, '').split(';')[0] || 'text/plain';
  const bytes = base64 ? Math.floor((payload.replace(/=+$/, '').length * 3) / 4) : decodeURIComponent(payload).length;
  return `a file (${type}, ${formatBytes(bytes)})`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** One input: its label, control, help text, example and the place for its error. */
export function field(name: string, spec: InputSpec): string {
  const key = escapeHtml(name);
  // The control's own `required` tells assistive technology; the star is for the eye.
  const required = mustBeGiven(spec) ? ' <span class="required" title="required" aria-hidden="true">*</span>' : '';
  const help = spec.description ? `${escapeHtml(spec.description)} · ` : '';
  const label = `<label for="input-${key}">${key}${required}</label>`;
  const example = exampleOf(spec);
  // A checkbox reads best with its label beside it.
  const head = spec.type === 'boolean' ? `<div class="check">${control(name, spec)}${label}</div>` : `${label}\n${control(name, spec)}`;
  return `<div class="field field-${spec.type}" id="field-${key}" data-field="${key}">
${head}
<p class="field-error" id="error-${key}" hidden></p>
<small class="help" id="help-${key}">${help}<span class="expected">${escapeHtml(describeExpected(spec))}</span></small>
${example === undefined ? '' : exampleMarkup(name, spec, example)}
</div>`;
}
