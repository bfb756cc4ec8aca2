// Image and file inputs: picked, dropped or pasted, then shown by name and size (and an image as
// a preview). The file input stays the real control; the zone around it takes drops and clicks.
import { byId, data, fileInputOf, form } from './elements.js';
import { clearFieldError, describe, showFieldError } from './field-errors.js';
import { formatBytes } from './format.js';

function showChosenFile(name: string): void {
  const input = fileInputOf(name);
  const file = input.files![0];
  const zone = input.closest('.drop')!;
  const chosen = byId(`chosen-${name}`)!;
  const preview = byId(`preview-${name}`) as HTMLImageElement | null;
  const remove = form.querySelector<HTMLElement>(`[data-clear="${CSS.escape(name)}"]`)!;
  if (preview && preview.src.startsWith('blob:')) URL.revokeObjectURL(preview.src);
  zone.classList.toggle('has-file', Boolean(file));
  remove.hidden = !file;
  chosen.hidden = !file;
  chosen.textContent = file ? `${file.name} (${formatBytes(file.size)})` : '';
  if (preview) {
    if (file) {
      preview.alt = `Preview of ${file.name}`;
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    } else {
      preview.removeAttribute('src');
      preview.hidden = true;
    }
  }
  describe(name);
}

export function setFile(name: string, file: File | null): void {
  const input = fileInputOf(name);
  const transfer = new DataTransfer();
  if (file) transfer.items.add(file);
  input.files = transfer.files;
  clearFieldError(name);
  showChosenFile(name);
}

// A file from a drop or a paste: an image input refuses what is plainly not an image, at once.
function takeFile(name: string, file: File): void {
  if (data.types[name] === 'image' && file.type && !file.type.startsWith('image/')) {
    showFieldError(name, `${file.name} is ${file.type}, not an image; choose a JPEG, PNG, WebP, GIF, TIFF or AVIF image.`);
    return;
  }
  setFile(name, file);
}

const hasFiles = (event: DragEvent) => Boolean(event.dataTransfer) && Array.from(event.dataTransfer!.types || []).includes('Files');

/** Wires the drop zones, their Remove buttons, drops beside them and pasted images. */
export function setUpFileInputs(): void {
  const zones = Array.from(form.querySelectorAll<HTMLElement>('.drop'));

  for (const zone of zones) {
    const name = zone.dataset.drop!;
    const input = fileInputOf(name);
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
      event.dataTransfer!.dropEffect = 'copy';
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragleave', (event) => {
      if (!zone.contains(event.relatedTarget as Node | null)) zone.classList.remove('dragging');
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
  for (const button of form.querySelectorAll<HTMLElement>('[data-clear]')) {
    const name = button.dataset.clear!;
    button.addEventListener('click', () => {
      setFile(name, null);
      fileInputOf(name).focus();
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
    const file = event.dataTransfer!.files[0];
    if (file && zones.length === 1) takeFile(zones[0]!.dataset.drop!, file);
  });

  // Ctrl+V of an image (a screenshot, an image copied in another page) goes to the file input that
  // has the focus, else to the first empty one that takes it; pasting text is left alone.
  const pasteTarget = (file: File): string | undefined => {
    const focused = zones.find((zone) => zone.contains(document.activeElement));
    if (focused) return focused.dataset.drop;
    const fitting = zones.map((zone) => zone.dataset.drop!).filter((name) => data.types[name] === 'file' || !file.type || file.type.startsWith('image/'));
    return fitting.find((name) => fileInputOf(name).files!.length === 0) || fitting[0];
  };
  document.addEventListener('paste', (event) => {
    const clipboard = event.clipboardData;
    if (!clipboard) return;
    let file = clipboard.files && clipboard.files[0];
    if (!file) {
      const item = Array.from(clipboard.items || []).find((entry) => entry.kind === 'file');
      file = (item && item.getAsFile()) || undefined;
    }
    if (!file) return;
    // Typing in a text box, a paste that also carries text is meant for the text box.
    const active = document.activeElement;
    const typing = active && (active.tagName === 'TEXTAREA' || (active.tagName === 'INPUT' && (active as HTMLInputElement).type !== 'file'));
    if (typing && Array.from(clipboard.types || []).includes('text/plain')) return;
    const name = pasteTarget(file);
    if (!name) return;
    event.preventDefault();
    takeFile(name, file);
  });
}
