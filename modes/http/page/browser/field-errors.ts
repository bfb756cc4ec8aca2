// An input's error, shown beside it, and what describes its control to assistive technology.
import { byId, controlOf, form, names } from './elements.js';

// A control is described by its error (when shown), its help, its file's name and hint, and its example.
export function describe(name: string): void {
  const control = controlOf(name);
  if (!control) return;
  const ids = ['error-', 'help-', 'chosen-', 'hint-', 'example-']
    .map((prefix) => prefix + name)
    .filter((id) => {
      const element = byId(id);
      return element && !element.hidden;
    });
  control.setAttribute('aria-describedby', ids.join(' '));
}

export function showFieldError(name: string, message: string): boolean {
  const field = byId(`field-${name}`);
  const error = byId(`error-${name}`);
  const control = controlOf(name);
  if (!field || !error || !control) return false;
  field.classList.add('invalid');
  control.setAttribute('aria-invalid', 'true');
  error.textContent = message;
  error.hidden = false;
  describe(name);
  return true;
}

export function clearFieldError(name: string): void {
  const field = byId(`field-${name}`);
  const error = byId(`error-${name}`);
  // Only showFieldError marks a field invalid, and it did so with the control and the error there.
  if (!field || !field.classList.contains('invalid') || !error) return;
  field.classList.remove('invalid');
  controlOf(name)?.removeAttribute('aria-invalid');
  error.hidden = true;
  error.textContent = '';
  describe(name);
}

export function focusField(name: string): void {
  const field = byId(`field-${name}`);
  if (field) field.scrollIntoView({ block: 'center' });
  const control = controlOf(name);
  if (control) control.focus({ preventScroll: true });
}

/** Describes every control, and clears a field's error as soon as its value changes. */
export function watchFieldErrors(): void {
  for (const name of names) describe(name);
  const clearOnEdit = (event: Event) => {
    const field = event.target instanceof Element ? event.target.closest<HTMLElement>('.field') : null;
    const name = field?.dataset.field;
    if (name !== undefined) clearFieldError(name);
  };
  form.addEventListener('input', clearOnEdit);
  form.addEventListener('change', clearOnEdit);
}
