import type { Readable } from 'node:stream';
import { AiIntegrationError } from '../errors.js';
import { plural } from '../plural.js';

/**
 * Reads a whole stream as bytes, binary-safe, and stops with a clear error past `maxBytes`
 * instead of buffering without bound. `what` names the stream in messages.
 */
export async function readAllBytes(stream: Readable & { isTTY?: boolean }, maxBytes: number, what: string): Promise<Buffer> {
  if (stream.isTTY) {
    throw new AiIntegrationError('AI_ERR_USAGE', `${what} is a terminal; pipe the data in, e.g. with docker run -i ... < file`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += bytes.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new AiIntegrationError('AI_ERR_INPUT_TOO_LARGE', `${what} holds more than ${plural(maxBytes, 'byte')} (the limit; raise it with MAX_INPUT_BYTES)`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, total);
}
