// A stored prediction keeps its answer, not its inputs: the bytes of an upload would otherwise stay
// in memory until the prediction expires (PREDICTION_TTL_SECONDS), and under the supervisor their
// buffer is reused once the request is done (src/supervisor/gather-pool.ts).
import { Writable } from 'node:stream';
import { expect, test } from 'vitest';
import type { Prediction } from '../../src/http/predict.js';
import { createLogger } from '../../src/logger.js';
import { PredictionStore } from '../../src/serving/predictions.js';
import { WebhookSender } from '../../src/serving/webhooks.js';
import { readPredictionSettings } from '../../src/settings.js';

test('a finished prediction is stored without its inputs, with its answer', async () => {
  const log = createLogger(new Writable({ write: (_chunk, _encoding, done) => done() }), {});
  const settings = readPredictionSettings({});
  const upload = Buffer.alloc(200_000, 1);
  const run = async (inputs: Record<string, unknown>): Promise<Prediction> =>
    ({
      inputs,
      result: { 'content-type': 'text/plain', data: 'ok', success: true },
      report: { ok: true, mediaType: 'text/plain' },
      mediaType: 'text/plain',
      queueMs: 1,
      predictMs: 2,
    }) as unknown as Prediction;
  const store = new PredictionStore(settings, run, () => undefined, new WebhookSender(settings.webhooks, log), log);
  const tracked = store.start({ image: upload });
  await tracked.settled;
  expect(tracked.status).toBe('succeeded');
  expect(store.get(tracked.id)!.prediction!.result.data).toBe('ok');
  expect(store.get(tracked.id)!.prediction!.inputs).toEqual({});
});
