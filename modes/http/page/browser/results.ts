// The result panel: a streamed result as it grows, then the whole result by kind (JSON, text, an
// image, audio, video or any file to download).
import { copyButton } from './copy-button.js';
import { byId, data, element, result } from './elements.js';
import { describeFields, fieldsElement, isFieldsOutput } from './fields.js';
import type { OutputKind } from './page-data.js';
import { formatBytes, formatDuration } from './format.js';
import { bytesOfDataUrl, extensionOf, isJsonType } from './media.js';
import type { PredictionAnswer } from './prediction.js';

// The blob: URLs of the result shown, released when the next one replaces it.
let objectUrls: string[] = [];

export function resetResult(kind: string): void {
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls = [];
  result.className = kind;
  result.replaceChildren();
}

// The result so far, collected as the final one will be: text joined, JSON as a list, the latest image.
export function showPartial(chunks: unknown[]): void {
  resetResult('success partial');
  const last = chunks[chunks.length - 1];
  const meta = element('p', 'result-meta', `Streaming · ${chunks.length}${chunks.length === 1 ? ' chunk' : ' chunks'} so far`);
  let body;
  if (isFieldsOutput(last)) {
    // A structured output's chunks are states: the latest one is the output so far.
    body = fieldsElement(last, fileElements);
  } else if (chunks.every((chunk) => typeof chunk === 'string' && !chunk.startsWith('data:'))) {
    body = element('pre', 'output-text', chunks.join(''));
  } else if (typeof last === 'string' && last.startsWith('data:')) {
    const { type, bytes } = bytesOfDataUrl(last);
    body = mediaElement(new Blob([bytes], { type }), type);
  } else {
    body = element('pre', 'output-json', JSON.stringify(chunks, null, 2));
  }
  result.append(meta, body);
}

function downloadName(mediaType: string, field?: string): string {
  const base =
    String(data.model)
      .replace(/[^\w.-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'model';
  return `${base}-${field === undefined ? 'result' : field.replace(/[^\w.-]+/g, '-')}.${extensionOf(mediaType)}`;
}

function downloadLink(blob: Blob | string, mediaType: string, name?: string): HTMLAnchorElement {
  const url = typeof blob === 'string' ? blob : URL.createObjectURL(blob);
  if (typeof blob !== 'string') objectUrls.push(url);
  const link = element('a', 'button secondary download', name === undefined ? 'Download' : `Download ${name}`);
  link.href = url;
  link.download = downloadName(mediaType, name);
  link.setAttribute('aria-label', `Download ${link.download}`);
  link.title = link.download;
  return link;
}

/** A prediction that succeeded, with the time the page waited and the model's own. */
export function showSuccess(answer: PredictionAnswer, seconds: number): void {
  resetResult('success');
  const contentType = String(answer.content_type || '');
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  const predictMs = answer.metrics && typeof answer.metrics.predict_time_ms === 'number' ? answer.metrics.predict_time_ms : undefined;
  const timing = `Done in ${formatDuration(seconds)}${predictMs === undefined ? '' : ` (the model took ${formatDuration(predictMs / 1000)})`}`;
  const meta = element('p', 'result-meta');
  const actions = element('div', 'result-actions');
  const body: HTMLElement[] = [];
  if (isJsonType(mediaType) && isFieldsOutput(answer.output)) {
    meta.textContent = `Fields · ${timing}`;
    body.push(fieldsElement(answer.output, fileElements));
    const json = JSON.stringify(answer.output, null, 2);
    actions.append(downloadLink(new Blob([`${json}\n`], { type: 'application/json' }), 'application/json', 'JSON'));
    followShown('fields', `the fields ${describeFields(answer.output)}`);
  } else if (isJsonType(mediaType)) {
    meta.textContent = `JSON · ${timing}`;
    followShown('json', 'JSON');
    const json = JSON.stringify(answer.output, null, 2);
    const pre = element('pre', 'output-json', json);
    pre.tabIndex = 0;
    pre.setAttribute('aria-label', 'JSON result');
    body.push(pre);
    actions.append(...copyButton(pre), downloadLink(new Blob([`${json}\n`], { type: 'application/json' }), 'application/json'));
  } else if (typeof answer.output === 'string' && answer.output.startsWith('data:')) {
    const { bytes } = bytesOfDataUrl(answer.output);
    const blob = new Blob([bytes], { type: mediaType });
    meta.textContent = `${mediaType || 'binary data'}, ${formatBytes(bytes.length)} · ${timing}`;
    followShown(mediaType.startsWith('image/') ? 'image' : 'file', `${mediaType.startsWith('image/') ? 'an image' : 'a file'} (${mediaType || 'binary data'})`);
    body.push(mediaElement(blob, mediaType));
    actions.append(downloadLink(blob, mediaType));
  } else {
    meta.textContent = `Text · ${timing}`;
    followShown('text', 'text');
    const pre = element('pre', 'output-text', String(answer.output));
    pre.tabIndex = 0;
    pre.setAttribute('aria-label', 'Text result');
    body.push(pre);
    actions.append(...copyButton(pre));
  }
  result.append(meta, ...body, actions);
}

// An image, audio or video result is shown as itself; any other file as a line to download.
function mediaElement(blob: Blob, mediaType: string, name?: string): HTMLElement {
  const url = URL.createObjectURL(blob);
  objectUrls.push(url);
  const unsupported = () => element('p', 'output-file', `This browser cannot show ${mediaType}; download it to open it.`);
  if (mediaType.startsWith('image/')) {
    const image = element('img', 'output-image');
    image.alt = name === undefined ? 'The result image' : `The field ${name}`;
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
  return element('p', 'output-file', `The model returned a file (${mediaType || 'binary data'}).`);
}

// One file of a structured output: the image (or player) and its download link; any other file as
// a download link. `url` is a data: URL, or a URL the file was uploaded to.
function fileElements(url: string, name: string): HTMLElement[] {
  if (!url.startsWith('data:')) {
    const link = element('a', 'button secondary download', `Open ${name}`);
    link.href = url;
    link.target = '_blank';
    link.rel = 'noopener';
    return [link];
  }
  const { type, bytes } = bytesOfDataUrl(url);
  const blob = new Blob([bytes], { type });
  const shown = type.startsWith('image/') || type.startsWith('audio/') || type.startsWith('video/') ? [mediaElement(blob, type, name)] : [];
  const line = element('p', 'output-file', `${type}, ${formatBytes(bytes.length)}`);
  line.append(' ', downloadLink(blob, type, name));
  return [...shown, line];
}

// The result card's line about the output says what is shown: the model's own description while
// it matches the kind of result shown, else what the result is.
const described = { kind: data.outputKind, text: byId('output-kind')?.textContent ?? '' };
function followShown(kind: OutputKind, what: string): void {
  const line = byId('output-kind');
  if (!line) return;
  line.textContent = kind === described.kind && described.text ? described.text : `Returned ${what}`;
  line.hidden = false;
}
