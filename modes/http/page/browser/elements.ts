// The page's data and elements. The server's markup (../markup.ts, ../../page.ts) always has the
// elements named here; an input's controls have ids made from its name (`input-<name>`).
import type { PageData } from './page-data.js';

export const byId = (id: string) => document.getElementById(id);

export const data = JSON.parse(byId('page-data')!.textContent!) as PageData;
export const names = Object.keys(data.types);

export const form = byId('form') as HTMLFormElement;
export const runButton = byId('run') as HTMLButtonElement;
export const output = document.querySelector('.output') as HTMLElement;
export const status = byId('status') as HTMLElement;
export const result = byId('result') as HTMLElement;

/** An input's control: a textarea, a select, or an input (number, checkbox, file). */
export type Control = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
export const controlOf = (name: string) => byId(`input-${name}`) as Control | null;
/** An image or file input's control. */
export const fileInputOf = (name: string) => byId(`input-${name}`) as HTMLInputElement;

export const isBinary = (name: string) => data.types[name] === 'image' || data.types[name] === 'file';

export function element<Tag extends keyof HTMLElementTagNameMap>(tag: Tag, className?: string, text?: string): HTMLElementTagNameMap[Tag] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
