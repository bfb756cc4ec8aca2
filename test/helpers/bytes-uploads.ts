// Uploads to the bytes model (test/fixtures/bytes-model.mjs) as multipart, and a worker killed while
// several are in flight: shared by the supervisor's large-value and shared-memory tests.
import { createHash } from 'node:crypto';
import { Agent, FormData, request } from 'undici';
import type { RunningServer } from './http-server.js';
import { childPids, eventually } from './supervisor.js';

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** POSTs `files` (and text `fields`) as multipart to `/predict`: the status and the parsed JSON answer. */
export async function upload(url: string, files: Record<string, Buffer>, fields: Record<string, string> = {}, dispatcher?: Agent) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const [name, bytes] of Object.entries(files)) form.append(name, new Blob([bytes]), `${name}.bin`);
  const response = await request(`${url}/predict`, { method: 'POST', body: form, dispatcher });
  return { status: response.statusCode, body: (await response.body.json()) as any };
}

export interface UploadOutcome {
  index: number;
  status: number;
  body: any;
}

/**
 * Sends `uploads` at once (each noted `u<index>`, the model holding each `delayMs`), SIGKILLs the
 * supervisor's worker once `answeredBeforeKill` were answered, and waits for every answer: the
 * worker killed and the outcomes, in the order they came.
 */
export async function uploadsAcrossAWorkerKill(
  server: RunningServer,
  uploads: readonly { index: number; bytes: Buffer }[],
  options: { delayMs: number; answeredBeforeKill: number },
): Promise<{ worker: number; outcomes: UploadOutcome[] }> {
  const [worker] = childPids(server.pid);
  if (!(worker! > 0)) throw new Error('the supervisor has no worker to kill');
  const agent = new Agent({ connections: uploads.length });
  const outcomes: UploadOutcome[] = [];
  const all = Promise.all(
    uploads.map(async ({ index, bytes }) =>
      outcomes.push({ index, ...(await upload(server.url, { file: bytes }, { delay_ms: String(options.delayMs), note: `u${index}` }, agent)) }),
    ),
  );
  // Killed once some were answered, while the rest stream to it or wait in its queue.
  if (!(await eventually(() => outcomes.length >= options.answeredBeforeKill, 60_000))) throw new Error('no upload was answered before the kill');
  process.kill(worker!, 'SIGKILL');
  await all;
  await agent.close();
  return { worker: worker!, outcomes };
}
