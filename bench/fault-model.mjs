// The model the fault benchmark serves: echoes its note after `delay_ms`, or hangs when asked.
import { setTimeout as sleep } from 'node:timers/promises';
import { startLoop } from 'ai-integration';

startLoop(
  async (inputs) => {
    if (inputs.hang) return new Promise(() => {});
    if (inputs.delay_ms > 0) await sleep(inputs.delay_ms);
    return { 'content-type': 'application/json', data: JSON.stringify({ note: inputs.note ?? null }), success: true };
  },
  {
    note: { type: 'text', required: false },
    delay_ms: { type: 'integer', min: 0, max: 60000, default: 0 },
    hang: { type: 'boolean', default: false },
    upload: { type: 'file', required: false },
  },
);
