import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { startServer, stopOrKill } from '../helpers/http-server.js';
import { supervisorBin } from '../helpers/supervisor.js';

const model = fileURLToPath(new URL('../fixtures/constant-model.mjs', import.meta.url));

// The supervisor's young-generation collections, as V8 reports them (--trace-gc-nvp) on its
// stdout: how many bytes each promoted to the old generation.
function promotedBytes(trace: string): number {
  let total = 0;
  for (const line of trace.split('\n')) {
    if (!line.includes(' gc=s ')) continue;
    total += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
  }
  return total;
}

describe('the supervisor under load', () => {
  it('promotes little of each request to the old generation (no pretenured request objects)', async () => {
    // Before the fix, V8 pretenured the supervisor's request records: each request's promise and
    // the HTTP objects behind it were promoted, about 1,000 bytes a request, and mark-compacts ran
    // every few hundred milliseconds under load. Now it is a few dozen.
    const server = await startServer(supervisorBin, { ACCESS_LOG: 'false' }, [model], ['--trace-gc', '--trace-gc-nvp']);
    try {
      const pool = new Pool(server.url, { connections: 10 });
      const body = JSON.stringify({ inputs: { text: 'a cat on a mat' } });
      // Ten clients, each sending its next request when the last is answered; resolves with how
      // many were answered with a prediction.
      const load = async (requests: number) => {
        let next = 0;
        let answered = 0;
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            while (next < requests) {
              next++;
              const response = await pool.request({ path: '/predict', method: 'POST', headers: { 'content-type': 'application/json' }, body });
              const answer = (await response.body.json()) as { status: string };
              if (response.statusCode === 200 && answer.status === 'succeeded') answered++;
            }
          }),
        );
        return answered;
      };
      // Start-up promotes what the process keeps (modules, the schema, the server): measured after it.
      expect(await load(4000)).toBe(4000);
      const before = server.stdout().length;
      const requests = 20_000;
      expect(await load(requests)).toBe(requests);
      await pool.close();
      const underLoad = server.stdout().slice(before);
      expect(underLoad).toContain(' gc=s ');
      const perRequest = promotedBytes(underLoad) / requests;
      expect(perRequest, `${perRequest.toFixed(0)} bytes promoted per request`).toBeLessThan(200);
    } finally {
      await stopOrKill(server);
    }
  }, 90_000);
});
