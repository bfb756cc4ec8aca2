/**
 * Example of the pull-style API (the Python library's get_next_input/send_result): the model owns
 * the loop and takes one request at a time. Makes a thumbnail in the chosen format.
 */
import sharp from 'sharp';
import { image, inferenceRequests } from 'ai-integration';

const schema = {
  image: { type: 'image', description: 'the picture to shrink' },
  size: { type: 'integer', min: 8, max: 1024, default: 128, description: 'the longer side of the thumbnail, in pixels' },
  format: { type: 'choice', choices: ['png', 'jpeg', 'webp'], default: 'png', description: "the thumbnail's file format" },
} as const;

const about = { name: 'thumbnail', description: 'Shrinks a picture to a thumbnail in PNG, JPEG or WebP.', output: { type: 'image' } } as const;

for await (const request of inferenceRequests(schema, about)) {
  const { size, format } = request.inputs;
  const thumbnail = await sharp(request.inputs.image).rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true }).toFormat(format).toBuffer();
  request.respond(image(thumbnail));
}
