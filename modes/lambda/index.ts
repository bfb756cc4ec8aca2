import { setTimeout as sleep } from 'node:timers/promises';
import { AiIntegrationError, ExitCode } from '../../src/errors.js';
import { readLambdaSettings, readRuntimeApi } from './settings.js';
import type { Engine, Logger, ModeContext } from '../../src/types.js';
import { errorReport } from './answers.js';
import { handleInvocation, type InvocationOutcome } from './invocation.js';
import { RuntimeApi, RuntimeApiError, type Invocation } from './runtime-api.js';
import { OutputUploads } from '../../src/uploads/output-uploads.js';

/**
 * MODE=lambda: the container is an AWS Lambda function with a custom runtime. It is a client of
 * the Lambda runtime API (AWS_LAMBDA_RUNTIME_API), not a server: it asks for the next invocation,
 * runs the model on its event, posts the answer, and asks again. Lambda freezes the whole
 * environment between invocations, so nothing here depends on running between them (no server,
 * no timer that must fire): the one timer is an invocation's deadline, cleared when it ends.
 */
export async function run(context: ModeContext): Promise<number> {
  const api = new RuntimeApi(readRuntimeApi(context.env));
  const uploads = new OutputUploads(context.settings.predictions.uploads);
  try {
    let settings;
    try {
      settings = readLambdaSettings(context.env);
    } catch (error) {
      await reportInitError(api, error, context.log);
      throw error;
    }
    return await serve(context, api, settings.deadlineMarginMs, uploads);
  } finally {
    await Promise.all([api.close(), uploads.close()]);
  }
}

/**
 * Reports an error that stops the function before its first invocation to the runtime API's
 * init/error, so that Lambda fails the initialization with it rather than only seeing an exit.
 * (The runtime calls it for errors it finds before the mode runs, such as an invalid schema.)
 */
export async function reportStartupError(error: unknown, env: Readonly<Record<string, string | undefined>>, log: Logger): Promise<void> {
  let address: string;
  try {
    address = readRuntimeApi(env);
  } catch {
    return; // nowhere to report it: the log has it
  }
  const api = new RuntimeApi(address);
  try {
    await reportInitError(api, error, log);
  } finally {
    await api.close();
  }
}

async function reportInitError(api: RuntimeApi, error: unknown, log: Logger): Promise<void> {
  const { report, headerType } = errorReport(error, 'Runtime');
  try {
    const posted = await api.initError(report, headerType);
    if (!posted.accepted) log.warn(`the Lambda runtime API refused the initialization error (${posted.status}): ${posted.refusal}`);
  } catch (postError) {
    log.warn(`the initialization error could not be reported to the Lambda runtime API at ${api.address}: ${(postError as Error).message}`);
  }
}

async function serve(context: ModeContext, api: RuntimeApi, deadlineMarginMs: number, uploads: OutputUploads): Promise<number> {
  const { engine, log } = context;
  let stopping = false;
  let failure: Error | undefined;
  let waiting: AbortController | undefined;
  // The supervisor gave up restarting the model: the invocation that waited has had its error.
  engine.events.on('failed', (error) => {
    failure = error;
    waiting?.abort();
  });
  let invoking = false;
  const onSignal = (signal: NodeJS.Signals) => {
    log.info(`${signal}: exiting${invoking ? ' once the invocation in progress is answered' : ''}`);
    stopping = true;
    waiting?.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  log.info(`waiting for invocations from the Lambda runtime API at ${api.address} (model ${context.modelName})`);
  let invocations = 0;
  try {
    while (!stopping && !failure) {
      waiting = new AbortController();
      let invocation: Invocation;
      try {
        invocation = await api.next(context.settings.maxInputBytes, waiting.signal);
      } catch (error) {
        if (stopping || failure) break;
        if (error instanceof RuntimeApiError) throw error;
        // The first call is where a wrong AWS_LAMBDA_RUNTIME_API shows.
        const reason = `the Lambda runtime API at ${api.address} (AWS_LAMBDA_RUNTIME_API) cannot be reached: ${describe(error)}`;
        if (invocations === 0) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', reason);
        log.error(`${reason}; exiting`);
        return ExitCode.inferenceThrew;
      } finally {
        waiting = undefined;
      }
      invocations++;
      invoking = true;
      const outcome = await handleInvocation(context, api, invocation, deadlineMarginMs, uploads).finally(() => (invoking = false));
      checkPosted(outcome, invocation.requestId, log);
      // Run directly, the model is in a bad state: its answer is out, and the process ends to be restarted.
      const verdict = outcome.fault && context.faults.report(outcome.fault.error);
      if (verdict && verdict.end) return verdict.exitCode;
      // Under the supervisor, a model that threw, overran or died is being replaced: it loads again
      // before the next invocation is asked for, since once the runtime asks, Lambda may freeze
      // everything, the loading worker included.
      await untilReady(engine, () => stopping || failure !== undefined);
    }
  } catch (error) {
    if (error instanceof RuntimeApiError) {
      log.error(`${error.message}; exiting`);
      return ExitCode.inferenceThrew;
    }
    throw error;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  if (failure) {
    log.error(failure.message);
    return ExitCode.inferenceThrew;
  }
  return ExitCode.success;
}

// 413: Lambda refused a response over its payload limit and has answered the caller with
// Function.ResponseSizeTooLarge; 4xx: the invocation is no longer in flight. Either way the
// function carries on; a 5xx says the environment is broken.
function checkPosted(outcome: InvocationOutcome, requestId: string, log: Logger): void {
  const { posted } = outcome;
  if (posted.accepted) return;
  const what = `the Lambda runtime API refused the answer to invocation ${requestId} (${posted.status}): ${posted.refusal}`;
  if (posted.status >= 500) throw new RuntimeApiError(what);
  log.warn(posted.status === 413 ? `${what}; the response is larger than Lambda's payload limit (6 MB for a synchronous invocation)` : what);
}

async function untilReady(engine: Engine, giveUp: () => boolean): Promise<void> {
  while (!engine.readiness().ready && !giveUp()) await sleep(10);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code;
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
