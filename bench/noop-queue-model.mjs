// The model of bench/queue.mjs: does no work, so the figures measure the queue's path.
import { json, startLoop } from 'ai-integration';

startLoop((inputs) => json({ note: inputs.note }), { note: { type: 'text', default: '' } }, { name: 'noop-queue-model' });
