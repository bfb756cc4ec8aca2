import { isUtf8 } from 'node:buffer';
import { checkResult } from '../../src/result/check-result.js';
import { convertInputs, type ValueOrigin } from '../../src/inputs/convert-inputs.js';
import {
  AiIntegrationError,
  InferenceThrewError,
  InferenceTimeoutError,
  MethodNotAllowedError,
  inferenceTimeoutName,
  type TimeLimit,
} from '../../src/errors.js';
import { resultError } from '../../src/result/infer-and-report.js';
import type { InferenceResult, ModeContext } from '../../src/types.js';
import { envelope, errorReport, predictionOf, proxyError, proxyInfo, proxySuccess, type CheckedPrediction, type ProxyResponse } from './answers.js';
import type { Prediction } from '../../src/http/predict.js';
import { acceptsExactly } from '../../src/media-type.js';
import type { OutputUploads } from '../../src/uploads/output-uploads.js';
import { plainInputs, proxyFormatOf, proxyInputs, readProxyRequest } from './event.js';
import type { Invocation, PostOutcome, RuntimeApi } from './runtime-api.js';

/** The model is in a bad state after this invocation: it threw, or it is still running past the deadline. */
export interface ModelFault {
  kind: 'threw' | 'timeout';
  error: AiIntegrationError;
}

/** An inference past the invocation's time limit; `modelStuck` when the model was running (not when no time was left to start). */
class DeadlineError extends InferenceTimeoutError {
  constructor(
    limit: TimeLimit,
    message: string,
    readonly modelStuck: boolean,
  ) {
    super(limit, undefined, message);
  }
}

/** What one invocation did: how the runtime API took the answer, and the model's fault, if any. */
export interface InvocationOutcome {
  posted: PostOutcome;
  fault: ModelFault | undefined;
}

/**
 * Runs one invocation and posts its answer. A proxy event (API Gateway, function URL) always gets
 * a proxy response, errors included, as status codes; a plain event gets the native envelope, or
 * an invocation error whose errorType is our error code. With OUTPUT_UPLOAD_URL, the result's
 * files are uploaded under the invocation's request id and answered as URLs: the one way past
 * Lambda's 6 MB response limit. A proxied request whose Accept names the file's own type exactly
 * gets the bytes instead, and nothing is uploaded (as `POST /predict` does).
 */
export async function handleInvocation(
  context: ModeContext,
  api: RuntimeApi,
  invocation: Invocation,
  deadlineMarginMs: number,
  uploads: OutputUploads,
): Promise<InvocationOutcome> {
  const { requestId } = invocation;
  // The AWS SDK reads the X-Ray trace header from process.env, as Lambda's own runtimes set it;
  // under the supervisor, the engine carries it to the model worker with each request.
  if (invocation.traceId !== undefined) process.env._X_AMZN_TRACE_ID = invocation.traceId;
  else delete process.env._X_AMZN_TRACE_ID;

  let fault: ModelFault | undefined;
  const predict = async (raw: Record<string, unknown>, origin: ValueOrigin): Promise<CheckedPrediction> => {
    const inputs = await convertInputs(context.schema, raw, {
      origin,
      strict: context.settings.strictInputs,
      maxDepth: context.settings.maxInputDepth,
      urlInputs: context.settings.urlInputs,
    });
    try {
      return await runModel(context, inputs, timeBudget(context, invocation, deadlineMarginMs));
    } catch (error) {
      if (error instanceof InferenceThrewError) fault = { kind: 'threw', error };
      else if (error instanceof DeadlineError && error.modelStuck) fault = { kind: 'timeout', error };
      throw error;
    }
  };

  const upload = (checked: CheckedPrediction, accept?: string): Promise<Prediction> => {
    const prediction = predictionOf(checked);
    if (prediction.mediaType !== 'application/json' && acceptsExactly(accept, prediction.mediaType)) return Promise.resolve(prediction);
    return uploads.apply(prediction, { predictionId: requestId });
  };

  const event = invocation.event === undefined ? undefined : parseEvent(invocation.event);
  const format = event?.ok ? proxyFormatOf(event.value) : undefined;
  if (format !== undefined && event?.ok) {
    let response: ProxyResponse;
    try {
      const request = readProxyRequest(event.value as Record<string, unknown>, format, context.settings.maxInputBytes);
      const head = request.method === 'HEAD';
      if (request.method === 'GET' || head) {
        response = proxyInfo(requestId, context, head);
      } else if (request.method !== 'POST') {
        throw new MethodNotAllowedError(['GET', 'HEAD', 'POST'], `${request.method} is not allowed; POST the inputs to run the model, or GET what it takes`);
      } else {
        const { raw, origin } = await proxyInputs(request, context);
        response = proxySuccess(requestId, await upload(await predict(raw, origin), request.headers.accept), false);
      }
    } catch (error) {
      logUnexpected(context, error);
      response = proxyError(requestId, error);
    }
    return { posted: await api.respond(requestId, JSON.stringify(response)), fault };
  }

  try {
    if (invocation.event === undefined) {
      throw new AiIntegrationError(
        'AI_ERR_INPUT_TOO_LARGE',
        `the event is larger than ${context.settings.maxInputBytes} bytes (the limit; raise it with MAX_INPUT_BYTES)`,
      );
    }
    if (!event!.ok) throw event!.error;
    const { raw, origin } = plainInputs(event!.value, context.schema);
    const prediction = await upload(await predict(raw, origin));
    return { posted: await api.respond(requestId, JSON.stringify(envelope(requestId, prediction))), fault };
  } catch (error) {
    logUnexpected(context, error);
    const { report, headerType } = errorReport(error, 'Function');
    return { posted: await api.fail(requestId, report, headerType), fault };
  }
}

function parseEvent(bytes: Buffer): { ok: true; value: unknown } | { ok: false; error: AiIntegrationError } {
  // Lambda only accepts JSON payloads, so this fails only for a runtime API that sends otherwise.
  if (!isUtf8(bytes)) return { ok: false, error: new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'the event is not valid UTF-8') };
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch (error) {
    return { ok: false, error: new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the event is not valid JSON (${(error as Error).message})`) };
  }
}

/** How long the inference may take: until the deadline less the margin, or INFERENCE_TIMEOUT_MS without a deadline (0: no limit). */
interface TimeBudget {
  ms: number;
  /** Whether the deadline sets it (otherwise 0 is no limit). */
  fromDeadline: boolean;
  /** The limit as the messages name it; the engine gets it too, so the supervisor's log names it rather than INFERENCE_TIMEOUT_MS. */
  name: string;
  /** The deadline it ends at, when one sets it. */
  deadline?: string;
}

function timeBudget(context: ModeContext, invocation: Invocation, deadlineMarginMs: number): TimeBudget {
  if (invocation.deadlineMs === undefined) {
    return {
      ms: context.settings.http.inferenceTimeoutMs,
      fromDeadline: false,
      name: `${inferenceTimeoutName}, since the invocation came without a deadline`,
    };
  }
  const deadline = `the Lambda invocation's deadline, less LAMBDA_DEADLINE_MARGIN_MS of ${deadlineMarginMs} ms`;
  return { ms: invocation.deadlineMs - Date.now() - deadlineMarginMs, fromDeadline: true, name: `the time left before ${deadline}`, deadline };
}

/**
 * Runs the model within the budget and checks its result. The supervisor's engine enforces the
 * limit itself, and replaces a worker that overruns it, as it does for INFERENCE_TIMEOUT_MS; in
 * process, a timer answers the invocation and the mode then ends the process.
 */
async function runModel(context: ModeContext, inputs: Record<string, unknown>, budget: TimeBudget): Promise<CheckedPrediction> {
  const { engine } = context;
  if (budget.fromDeadline && budget.ms < 1) {
    throw new DeadlineError({ ms: 0, name: budget.name }, `no time was left to run the inference before ${budget.deadline}`, false);
  }
  const limit: TimeLimit = { ms: Math.floor(budget.ms), name: budget.name };
  const stuck = () =>
    new DeadlineError(
      limit,
      `the inference did not finish within ${limit.ms} ms (${limit.name}); ${context.faults.policy === 'restart-in-place' ? 'the model worker is being replaced' : 'the process exits to be restarted'}`,
      true,
    );
  const started = performance.now();
  // Under the supervisor the worker times the model; the time here also counts the trip to it.
  let reported: number | undefined;
  const options = { onPredictTime: (ms: number) => (reported = ms) };
  let result: InferenceResult;
  engine.configure({ concurrency: 1, inferenceTimeoutMs: limit.ms, inferenceTimeoutName: limit.name });
  const enforced = engine.capabilities.enforcesTimeout;
  if (enforced || limit.ms === 0) {
    try {
      result = await engine.infer(inputs, options);
    } catch (error) {
      throw error instanceof AiIntegrationError && error.code === 'AI_ERR_TIMEOUT' ? stuck() : error;
    }
  } else {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(stuck()), limit.ms)));
    try {
      result = await Promise.race([engine.infer(inputs, options), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  const predictMs = reported ?? performance.now() - started;
  const report = await checkResult(result);
  if (!report.ok) throw resultError(result, report);
  return { result, report, predictMs };
}

// Our errors are the caller's answer; anything else is a bug here, which the log must show.
function logUnexpected(context: ModeContext, error: unknown): void {
  if (!(error instanceof AiIntegrationError))
    context.log.error(`internal error while answering an invocation: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
