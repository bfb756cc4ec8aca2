// The model of bench/batching.mjs: a call costs 20 ms plus 1 ms per item (as a GPU's fixed launch
// cost and a per-item cost would), spent waiting, not computing. BATCHED=1 makes it a batch model
// (maxSize BATCH_MAX_SIZE, default 8); otherwise each request is a call of one item (21 ms).
import { json, startLoop } from 'ai-integration';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const answer = (batch) => json({ batch });
const schema = { note: { type: 'text', default: '' } };

if (process.env.BATCHED === '1') {
  startLoop(
    async (batch) => {
      await sleep(20 + batch.length);
      return batch.map(() => answer(batch.length));
    },
    schema,
    { batch: { maxSize: Number(process.env.BATCH_MAX_SIZE ?? 8) } },
  );
} else {
  startLoop(async () => {
    await sleep(21);
    return answer(1);
  }, schema);
}
