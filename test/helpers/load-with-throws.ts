import { Agent, request } from 'undici';

export interface LoadOutcome {
  index: number;
  throwing: boolean;
  status: number;
  note?: string;
  error?: string;
}

export interface LoadReport {
  connectionErrors: number;
  outcomes: LoadOutcome[];
  /** Every /health status seen while the load ran, in order. */
  readiness: number[];
}

/**
 * A bounded load on POST /predict of test/fixtures/http-model.mjs over `loops` concurrent
 * keep-alive loops: request `index` carries the note "request <index>", and every `throwEvery`-th
 * (from the 10th) asks the model to throw. /health is polled throughout.
 */
export async function loadWithThrows(url: string, total: number, loops: number, throwEvery: number): Promise<LoadReport> {
  const agent = new Agent({ connections: loops + 2 });
  const outcomes: LoadOutcome[] = [];
  const readiness: number[] = [];
  let connectionErrors = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const health = await request(`${url}/health`, { dispatcher: agent }).catch(() => undefined);
      if (health) {
        readiness.push(health.statusCode);
        await health.body.dump();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  let next = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (next < total) {
        const index = next++;
        const throwing = index % throwEvery === 10 % throwEvery;
        const inputs = throwing ? { action: 'throw' } : { note: `request ${index}`, delay_ms: 5 };
        try {
          const response = await request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }), dispatcher: agent });
          const body = (await response.body.json()) as { output?: { received: { note: string } }; error?: { message: string } };
          outcomes.push({ index, throwing, status: response.statusCode, note: body.output?.received.note, error: body.error?.message });
        } catch {
          connectionErrors++;
        }
      }
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 500)); // readiness after the last restart
  polling = false;
  await poller;
  await agent.close();
  return { connectionErrors, outcomes, readiness };
}
