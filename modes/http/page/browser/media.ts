// Media types and data: URLs: a result's or an example's bytes, and the file name they get.

const extensions: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
  'image/tiff': 'tif',
  'image/bmp': 'bmp',
  'image/svg+xml': 'svg',
  'image/x-icon': 'ico',
  'image/vnd.microsoft.icon': 'ico',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'audio/flac': 'flac',
  'audio/mp4': 'm4a',
  'audio/webm': 'weba',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/ogg': 'ogv',
  'video/quicktime': 'mov',
  'application/json': 'json',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'application/gzip': 'gz',
  'application/octet-stream': 'bin',
  'application/x-npy': 'npy',
  'application/xml': 'xml',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'text/html': 'html',
  'text/markdown': 'md',
  'text/xml': 'xml',
  'model/gltf-binary': 'glb',
};

// The file extension for a media type: the known ones, else the subtype when it looks like one.
export function extensionOf(mediaType: string): string {
  const type = mediaType.split(';')[0]!.trim().toLowerCase();
  const known = extensions[type];
  if (known) return known;
  if (type.endsWith('+json')) return 'json';
  if (type.endsWith('+xml')) return 'xml';
  const subtype = (type.split('/')[1] || '').replace(/^x-/, '').split('+')[0]!;
  return /^[a-z0-9]{1,8}$/.test(subtype) ? subtype : 'bin';
}

export const isJsonType = (type: string) => type === 'application/json' || type.endsWith('+json');

export function bytesOfDataUrl(url: string): { type: string; bytes: Uint8Array<ArrayBuffer> } {
  const comma = url.indexOf(',');
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const type = meta.replace(/;base64$/i, '').split(';')[0] || 'text/plain';
  if (!/;base64$/i.test(meta)) return { type, bytes: new TextEncoder().encode(decodeURIComponent(payload)) };
  const binary = atob(payload.replace(/\s+/g, ''));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return { type, bytes };
}

export function fileFromDataUrl(url: string, baseName: string): File {
  const { type, bytes } = bytesOfDataUrl(url);
  return new File([bytes], `${baseName}.${extensionOf(type)}`, { type });
}

export const isPlainRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
