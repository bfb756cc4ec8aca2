/**
 * `node node_modules/ai-integration/dist/healthcheck.js`: the container's HEALTHCHECK. In a
 * serving mode it asks the model's own readiness endpoint (so "starting" and "restarting" count
 * as unhealthy); in a one-shot mode there is nothing to ask and the check passes, so a long
 * command-line job is not marked unhealthy. Written in Node because slim base images have no curl.
 */
import { isServingMode, probeTarget, readModeName } from './registry.js';

const answerTimeoutMs = 4000;

async function check(): Promise<number> {
  // `docker run IMAGE serve` (SageMaker) selects its mode by an argument this process does not
  // see; SageMaker probes /ping itself and ignores HEALTHCHECK, so the check passes there.
  const mode = readModeName({}, process.env) ?? '';
  // A mode of the shim's own is registered in the shim, which this check never loads: its
  // platform's probe asks its readiness route instead.
  if (!mode || !isServingMode(mode)) {
    console.log(`MODE=${mode} does not serve; nothing to check`);
    return 0;
  }
  const target = probeTarget(mode, process.env);
  if (!target) {
    console.log(`MODE=${mode} has no HTTP listener (the platform calls it); nothing to check`);
    return 0;
  }
  const host = process.env.HOST?.trim();
  const address = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${address}:${target.port}${target.path}`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(answerTimeoutMs) });
    const body = (await response.text()).trim();
    console.log(`${url}: ${response.status} ${body}`);
    return (target.ready ?? ((status) => status === 200))(response.status, body) ? 0 : 1;
  } catch (error) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, a timeout) is its cause.
    const failure = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    console.log(`${url}: no answer (${failure instanceof Error ? failure.message : String(failure)})`);
    return 1;
  }
}

process.exitCode = await check().catch((error: unknown) => {
  // A malformed port or route variable: the mode itself refuses to start on it too.
  console.log(`cannot tell where to probe: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
});
