// The model the supervisor benchmark serves: a constant, or a throw when asked.
import { startLoop } from 'ai-integration';

const answer = JSON.stringify({ label: 'cat' });
startLoop(
  (inputs) => {
    if (inputs.throw) throw new Error('asked to throw');
    return { 'content-type': 'application/json', data: answer, success: true };
  },
  { throw: { type: 'boolean', default: false } },
);
