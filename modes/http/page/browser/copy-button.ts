// A result's Copy button, with a note that says whether the copy worked.
import { element } from './elements.js';

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, no focus): the fallback below may still work.
  }
  // Pages served over plain http from another host have no clipboard API.
  const previous = document.activeElement as HTMLElement | null;
  const area = element('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'visually-hidden';
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  if (previous && previous.focus) previous.focus();
  return copied;
}

/** The button and its note, for the text of `pre`. */
export function copyButton(pre: HTMLElement): [HTMLButtonElement, HTMLElement] {
  const button = element('button', 'secondary copy', 'Copy');
  button.type = 'button';
  const note = element('span', 'copy-note');
  note.setAttribute('role', 'status');
  button.addEventListener('click', async () => {
    const copied = await copyText(pre.textContent!);
    if (copied) {
      note.textContent = 'Copied to the clipboard.';
    } else {
      // Leave the text selected, so Ctrl+C finishes the job.
      const range = document.createRange();
      range.selectNodeContents(pre);
      const selection = getSelection()!;
      selection.removeAllRanges();
      selection.addRange(range);
      note.textContent = 'The browser refused to copy; the text is selected, press Ctrl+C.';
    }
  });
  return [button, note];
}
