// MODE=kserve over gRPC with a Node @grpc/grpc-js client where the process matters: a throwing
// load under the supervisor loses nothing (as REST's does: test/e2e/kserve.test.ts), the health
// service says NOT_SERVING while the model restarts, and SIGTERM drains the gRPC calls in flight.
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { nodeClient, serveGrpc, type NodeCallOutcome } from '../helpers/grpc.js';
import type { RunningServer } from '../helpers/http-server.js';
import { modelSignals } from '../helpers/gates.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const httpModel = fixture('http-model.mjs');
const thrown = 'the inference function threw: CUDA error: device-side assert triggered';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const serve = async (script: string, env: Record<string, string> = {}, args: string[] = []): Promise<RunningServer & { grpc: string }> => {
  const server = await serveGrpc(script, env, args);
  cleanups.push(() => server.stop());
  return server;
};
const client = async (target: string) => {
  const made = await nodeClient(target);
  cleanups.push(() => made.close());
  return made;
};
const bytes = (text: string) => Buffer.from(text);
const noteOf = (outcome: NodeCallOutcome): string | undefined => {
  const element = outcome.response?.outputs?.[0]?.contents?.bytes_contents?.[0] as Buffer | undefined;
  return element ? (JSON.parse(element.toString('utf8')) as { received: { note: string } }).received.note : undefined;
};

describe('MODE=kserve over gRPC with a @grpc/grpc-js client', () => {
  test('under the supervisor with a throwing load: nothing lost, the throws INTERNAL, health NOT_SERVING while the model restarts', async () => {
    const server = await serve(supervisorBin, { START_DELAY_MS: '300', MAX_QUEUE: '200' }, [httpModel]);
    const grpc = await client(server.grpc);
    const total = 90;
    const loops = 6;
    const outcomes: { index: number; throwing: boolean; outcome: NodeCallOutcome }[] = [];
    const health: string[] = [];
    let loadEnded = false;
    // Health is polled throughout, then until a check sent after the load finds the model serving again.
    const poller = (async () => {
      for (const settleBy = Date.now() + 60_000; Date.now() < settleBy; ) {
        const sentAfterLoad = loadEnded;
        const answer = await grpc.health();
        health.push(answer.response?.status ?? status[answer.code]!);
        if (sentAfterLoad && health.at(-1) === 'SERVING') return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    let next = 0;
    await Promise.all(
      Array.from({ length: loops }, async () => {
        while (next < total) {
          const index = next++;
          const throwing = index % 30 === 10;
          const inputs = throwing
            ? [{ name: 'action', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [bytes('throw')] } }]
            : [
                { name: 'note', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [bytes(`request ${index}`)] } },
                { name: 'delay_ms', datatype: 'INT64', shape: [1], contents: { int64_contents: ['5'] } },
              ];
          outcomes.push({ index, throwing, outcome: await grpc.call('ModelInfer', { model_name: 'http-model', inputs }) });
        }
      }),
    );
    loadEnded = true;
    await poller;

    expect(outcomes).toHaveLength(total);
    const throws = outcomes.filter((each) => each.throwing);
    expect(throws.map((each) => each.index).sort((a, b) => a - b)).toEqual([10, 40, 70]);
    for (const { outcome } of throws) expect(outcome).toEqual({ code: status.INTERNAL, details: thrown });
    const others = outcomes.filter((each) => !each.throwing);
    expect(others.filter(({ outcome }) => outcome.code !== status.OK)).toEqual([]);
    expect(others.filter(({ index, outcome }) => noteOf(outcome) !== `request ${index}`)).toEqual([]);
    expect(health).toContain('NOT_SERVING');
    expect(health.at(-1)).toBe('SERVING');
  });

  test('SIGTERM: no new calls (UNAVAILABLE), the call in flight finishes, then exit 0', async () => {
    const signals = modelSignals();
    cleanups.push(() => signals.remove());
    const server = await serve(httpModel, signals.env);
    const grpc = await client(server.grpc);
    signals.hold('in flight');
    const inFlight = grpc.call('ModelInfer', {
      model_name: 'http-model',
      inputs: [{ name: 'note', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [bytes('in flight')] } }],
    });
    expect(await signals.started('in flight')).toBe(true);
    server.child.kill('SIGTERM');
    expect(await eventually(() => server.stderr().includes('SIGTERM: draining'), 10_000)).toBe(true);
    const late = await grpc.call('ModelInfer', { model_name: 'http-model', inputs: [] }, 5000);
    expect(late.code).toBe(status.UNAVAILABLE);
    signals.release('in flight');
    const answer = await inFlight;
    expect(answer.code).toBe(status.OK);
    expect(noteOf(answer)).toBe('in flight');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});
