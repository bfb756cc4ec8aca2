import { Agent, request } from 'undici';
import { expect } from 'vitest';

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
  /** Every readiness seen while the load ran, in order: the status code, or what `LoadProtocol.health` reads. */
  readiness: (number | string)[];
}

/** How a protocol carries the load's requests to test/fixtures/http-model.mjs (or a model like it). */
export interface LoadProtocol {
  /** The readiness route polled throughout. */
  healthPath: string;
  /** Reads readiness from a body (Cog's health-check is always 200); by default the status code is the readiness. */
  health?(status: number, body: unknown): string;
  /** The readiness that means ready: by default 200, or Cog's "READY" when `health` reads it. */
  ready?: number | string;
  /** The request for these inputs of the model (`note`, `delay_ms`, or `action: 'throw'`), the load's `index`-th. */
  request(inputs: Record<string, unknown>, index: number): { path: string; method?: 'POST' | 'PUT'; headers: Record<string, string>; body: string };
  /** The note the model echoed in a success, or the error message of a failure. */
  read(status: number, body: unknown): { note?: string | undefined; error?: string | undefined };
}

/** The native API: POST /predict with `{"inputs": {...}}`, readiness at /health. */
export const nativeLoad: LoadProtocol = {
  healthPath: '/health',
  request: (inputs) => ({ path: '/predict', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) }),
  read: (_status, body) => {
    const answer = body as { output?: { received: { note: string } }; error?: { message: string } };
    return { note: answer.output?.received.note, error: answer.error?.message };
  },
};

/**
 * A bounded load of test/fixtures/http-model.mjs over `loops` concurrent keep-alive loops, in the
 * native API or another protocol's: request `index` carries the note "request <index>", and every
 * `throwEvery`-th (from the 10th) asks the model to throw. Readiness is polled throughout.
 */
export async function loadWithThrows(url: string, total: number, loops: number, throwEvery: number, protocol: LoadProtocol = nativeLoad): Promise<LoadReport> {
  const agent = new Agent({ connections: loops + 2 });
  const outcomes: LoadOutcome[] = [];
  const readiness: (number | string)[] = [];
  let connectionErrors = 0;
  // Once the load has ended, polling goes on until a probe sent after it finds the service ready
  // (after the last restart), within 20 s: nothing else tells when that restart is over.
  let loadEnded = false;
  let settleBy = Number.POSITIVE_INFINITY;
  const ready = protocol.ready ?? (protocol.health ? 'READY' : 200);
  const poller = (async () => {
    for (;;) {
      const sentAfterLoad = loadEnded;
      const health = await request(`${url}${protocol.healthPath}`, { dispatcher: agent }).catch(() => undefined);
      if (health) {
        if (protocol.health) readiness.push(protocol.health(health.statusCode, await health.body.json()));
        else {
          readiness.push(health.statusCode);
          await health.body.dump();
        }
        if (sentAfterLoad && readiness.at(-1) === ready) return;
      }
      if (Date.now() > settleBy) return;
      // The sampling interval of readiness during the load (a poll, which is what is measured).
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
          const sent = protocol.request(inputs, index);
          const response = await request(`${url}${sent.path}`, { method: sent.method ?? 'POST', headers: sent.headers, body: sent.body, dispatcher: agent });
          const { note, error } = protocol.read(response.statusCode, await response.body.json());
          outcomes.push({ index, throwing, status: response.statusCode, note, error });
        } catch {
          connectionErrors++;
        }
      }
    }),
  );
  loadEnded = true;
  settleBy = Date.now() + 20_000;
  await poller;
  await agent.close();
  return { connectionErrors, outcomes, readiness };
}

/**
 * What every throwing load must show, whatever the protocol: no connection errors, every request
 * answered, the throwing ones (10, 40, 70 of 90 with `throwEvery` 30) with `thrownStatus` and the
 * model's message as the protocol words it, every other one a 200 echoing its own note, and
 * readiness that dipped while the model restarted and came back.
 */
export function expectNothingLost(report: LoadReport, total: number, thrownError: string, thrownStatus = 500): void {
  const { connectionErrors, outcomes, readiness } = report;
  expect(connectionErrors).toBe(0);
  expect(outcomes).toHaveLength(total);
  const throwing = outcomes.filter((outcome) => outcome.throwing);
  expect(throwing.map((outcome) => outcome.index).sort((a, b) => a - b)).toEqual([10, 40, 70]);
  for (const outcome of throwing) {
    expect(outcome.status).toBe(thrownStatus);
    expect(outcome.error).toBe(thrownError);
  }
  const others = outcomes.filter((outcome) => !outcome.throwing);
  expect(others.filter((outcome) => outcome.status !== 200)).toEqual([]);
  expect(others.filter((outcome) => outcome.note !== `request ${outcome.index}`)).toEqual([]);
  expect(readiness).toContain(503);
  expect(readiness.at(-1)).toBe(200);
}
