// The model the large-bodies benchmark serves: it only reads its image's length, so the memory
// measured is the server's, not the model's.
import { startLoop } from 'ai-integration';

startLoop((inputs) => ({ 'content-type': 'application/json', data: JSON.stringify({ length: inputs.image.length }), success: true }), {
  image: { type: 'image', description: 'an image of any size' },
});
