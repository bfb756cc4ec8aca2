/**
 * Example of the pull-style API (the Python library's get_next_input/send_result): the model owns
 * the loop and takes one request at a time. Makes a thumbnail in the chosen format.
 */
import sharp from 'sharp';
import { inferenceRequests } from 'ai-integration';

const mediaTypes = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;

const schema = {
  image: { type: 'image', description: 'the picture to shrink' },
  size: { type: 'integer', min: 8, max: 1024, default: 128, description: 'the longer side of the thumbnail, in pixels' },
  format: { type: 'choice', choices: ['png', 'jpeg', 'webp'], default: 'png', description: 'the thumbnail\'s file format' },
} as const;

for await (const request of inferenceRequests(schema)) {
  const { image, size, format } = request.inputs;
  const thumbnail = await sharp(image).rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true }).toFormat(format).toBuffer();
  request.respond({ 'content-type': mediaTypes[format], data: thumbnail, success: true });
}
