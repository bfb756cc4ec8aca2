// The model the HTTP benchmark serves: it returns a constant, so the figures measure the server.
import { startLoop } from 'ai-integration';

const answer = JSON.stringify({ label: 'cat', score: 0.98 });
startLoop(() => ({ 'content-type': 'application/json', data: answer, success: true }), {
  image: { type: 'image', description: 'a photo' },
});
