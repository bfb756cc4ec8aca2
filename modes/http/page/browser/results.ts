// The result panel: a streamed result as it grows, then the whole result by kind (JSON, text, an
// image, audio, video or any file to download).
import { copyButton } from './copy-button.js';
import { data, element, result } from './elements.js';
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

function downloadName(mediaType: string): string {
  const base =
    String(data.model)
      .replace(/[^\w.-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'model';
  return `${base}-result.${extensionOf(mediaType)}`;
}

function downloadLink(blob: Blob, mediaType: string): HTMLAnchorElement {
  const url = URL.createObjectURL(blob);
  objectUrls.push(url);
  const link = element('a', 'button secondary download', 'Download');
  link.href = url;
  link.download = downloadName(mediaType);
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
  if (isJsonType(mediaType)) {
    meta.textContent = `JSON · ${timing}`;
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
    body.push(mediaElement(blob, mediaType));
    actions.append(downloadLink(blob, mediaType));
  } else {
    meta.textContent = `Text · ${timing}`;
    const pre = element('pre', 'output-text', String(answer.output));
    pre.tabIndex = 0;
    pre.setAttribute('aria-label', 'Text result');
    body.push(pre);
    actions.append(...copyButton(pre));
  }
  result.append(meta, ...body, actions);
}

// An image, audio or video result is shown as itself; any other file as a line to download.
function mediaElement(blob: Blob, mediaType: string): HTMLElement {
  const url = URL.createObjectURL(blob);
  objectUrls.push(url);
  const unsupported = () => element('p', 'output-file', `This browser cannot show ${mediaType}; download it to open it.`);
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
  return element('p', 'output-file', `The model returned a file (${mediaType || 'binary data'}).`);
}
