// A structured output (`output(fields)`): each field under its name, images as images, other files
// as a download link (audio and video playable), data as JSON. Files come as data: URLs (or as
// URLs, for a field the output description declares an image or a file).
import { data, element } from './elements.js';
import { isPlainRecord } from './media.js';

/** Whether a JSON output is a structured output's fields: the model described it so, or a field holds a data: URL. */
export function isFieldsOutput(value: unknown): value is Record<string, unknown> {
  if (!isPlainRecord(value)) return false;
  if (data.outputKind === 'fields') return true;
  return Object.values(value).some((field) => isFileUrl(field) || (Array.isArray(field) && field.length > 0 && field.every(isFileUrl)));
}

const isFileUrl = (value: unknown): value is string => typeof value === 'string' && value.startsWith('data:') && value.includes(',');

/** The fields, in order, each as a section; `file` shows one file (by the results panel's rules). */
export function fieldsElement(fields: Record<string, unknown>, file: (url: string, name: string) => HTMLElement[]): HTMLElement {
  const list = element('div', 'output-fields');
  for (const [name, value] of Object.entries(fields)) {
    const section = element('section', 'output-field');
    section.dataset.field = name;
    const declared = data.fields?.[name];
    const files = Array.isArray(value) ? value : [value];
    const isFiles = files.length > 0 && files.every((item) => isFileUrl(item) || (declared !== undefined && declared !== 'json' && typeof item === 'string'));
    section.append(element('h3', 'output-field-name', name));
    if (isFiles) {
      files.forEach((url, index) => {
        section.append(...file(url as string, Array.isArray(value) ? `${name}-${index}` : name));
      });
    } else {
      const pre = element('pre', 'output-json', JSON.stringify(value, null, 2));
      pre.tabIndex = 0;
      pre.setAttribute('aria-label', `Field ${name}, JSON`);
      section.append(pre);
    }
    list.append(section);
  }
  return list;
}

/** The fields' kinds in a sentence: `label (JSON), mask (an image, image/png)`. */
export function describeFields(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([name, value]) => {
      const items = Array.isArray(value) ? value : [value];
      if (items.length === 0 || !items.every(isFileUrl)) return `${name} (JSON)`;
      const type = (items[0] as string).slice(5, (items[0] as string).search(/[;,]/));
      const what = type.startsWith('image/') ? (Array.isArray(value) ? 'images' : 'an image') : Array.isArray(value) ? 'files' : 'a file';
      return `${name} (${what}, ${type})`;
    })
    .join(', ');
}
