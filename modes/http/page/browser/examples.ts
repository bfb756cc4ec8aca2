// An input's example (from the schema), filled in by its "Use example" button, or all at once.
import { byId, controlOf, data, form, isBinary } from './elements.js';
import { clearFieldError } from './field-errors.js';
import { setFile } from './file-inputs.js';
import { fileFromDataUrl } from './media.js';

function useExample(name: string): void {
  const value = data.examples[name];
  const type = data.types[name];
  const control = controlOf(name);
  if (value === undefined || !control) return;
  if (isBinary(name)) {
    // The server sends an image's or a file's example only as a data: URL.
    setFile(name, fileFromDataUrl(value as string, `example-${name.replace(/[^\w.-]+/g, '-')}`));
    return;
  }
  if (type === 'boolean') (control as HTMLInputElement).checked = value === true;
  else if (type === 'json') control.value = JSON.stringify(value, null, 2);
  else control.value = String(value);
  clearFieldError(name);
}

export function setUpExamples(): void {
  for (const button of form.querySelectorAll<HTMLElement>('[data-example]')) {
    button.addEventListener('click', () => useExample(button.dataset.example!));
  }
  const allExamples = byId('use-all-examples');
  if (allExamples) allExamples.addEventListener('click', () => Object.keys(data.examples).forEach(useExample));
}
