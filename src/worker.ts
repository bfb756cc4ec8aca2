import { applyRequestEnvironment, asBuffers, workerEnvironmentVariable, type ForwardedOptions, type SupervisorMessage, type WorkerMessage } from './worker-protocol.js';
import { AiIntegrationError, ExitCode, InferenceThrewError, PredictionCanceledError } from './errors.js';
import { validateOutputDescription } from './output-description.js';
import { validateSchema } from './schema.js';
import type { Engine, InferenceResult, InputsSchema, StartLoopOptions } from './types.js';

/** Whether this process is a model worker started by the `ai-integration` supervisor. */
export function isSupervisedWorker(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env[workerEnvironmentVariable] === '1' && typeof process.send === 'function';
}

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

/**
 * The worker's side: tells the supervisor the schema and that the model is loaded, then answers
 * inference requests until the supervisor goes away. A throw is reported with its stack, then
 * the worker exits so the supervisor starts a fresh one.
 */
export async function serveAsWorker(engine: Engine, schema: InputsSchema, options: StartLoopOptions): Promise<void> {
  validateSchema(schema);
  // The supervisor owns this process's life: the worker has its own process group, so a
  // terminal's signals go to the supervisor only, and the supervisor stops the worker by closing
  // the channel, then with SIGTERM (left at its default, so even a busy loop ends), then SIGKILL.
  process.on('disconnect', () => process.exit(0));
  const forwarded: ForwardedOptions = {};
  for (const key of ['mode', 'name', 'version', 'description', 'output', 'selfTestRuns', 'maxInputBytes', 'maxInputDepth', 'strictInputs', 'http'] as const) {
    if (options[key] !== undefined) Object.assign(forwarded, { [key]: options[key] });
  }
  // The supervisor checks the output description, as startLoop does when run directly, and ends
  // with its error; only one the channel cannot carry at all (a function in it) is reported here.
  if (forwarded.output !== undefined) {
    try {
      structuredClone(forwarded.output);
    } catch {
      validateOutputDescription(forwarded.output);
    }
  }
  // Requests run first in, first out, `concurrency` at a time: the supervisor relies on the order
  // to know which requests a dead worker may have been running.
  let concurrency = 1;
  let running = 0;
  const waiting: Extract<SupervisorMessage, { type: 'infer' }>[] = [];
  const controllers = new Map<number, AbortController>();
  const pump = () => {
    while (running < concurrency && waiting.length > 0) {
      running++;
      run(waiting.shift()!);
    }
  };
  process.on('message', (message: SupervisorMessage) => {
    if (message?.type === 'configure') {
      concurrency = Math.max(1, message.concurrency);
      pump();
    } else if (message?.type === 'infer') {
      waiting.push(message);
      pump();
    } else if (message?.type === 'abort') {
      const index = waiting.findIndex((request) => request.id === message.id);
      if (index !== -1) {
        waiting.splice(index, 1);
        void send({ type: 'canceled', id: message.id });
      } else controllers.get(message.id)?.abort();
    }
  });
  const run = (message: Extract<SupervisorMessage, { type: 'infer' }>) => {
    // The request's own variables (the Lambda trace id), as the model would see them in process.
    applyRequestEnvironment(message.env);
    const controller = new AbortController();
    controllers.set(message.id, controller);
    // Chunks go as they come; the channel keeps their order, and the result comes after them.
    const onChunk = message.chunks ? (chunk: InferenceResult) => void send({ type: 'chunk', id: message.id, chunk }) : undefined;
    engine.infer(asBuffers(message.inputs), { signal: controller.signal, onChunk }).then(
      async (result) => {
        try {
          await send({ type: 'result', id: message.id, result });
        } catch (error) {
          const reason = `the result could not be sent to the supervisor: ${(error as Error).message}`;
          await send({ type: 'result', id: message.id, result: { 'content-type': 'text/plain', data: null, success: false, error: reason } });
        }
      },
      async (error: unknown) => {
        if (error instanceof PredictionCanceledError) {
          await send({ type: 'canceled', id: message.id });
          return;
        }
        if (error instanceof AiIntegrationError) {
          await send({ type: 'failed', id: message.id, error: { code: error.code, message: error.message } });
          return;
        }
        const thrown = error instanceof InferenceThrewError ? error.cause : error;
        const described = thrown instanceof Error ? thrown : new Error(String(thrown));
        await send({ type: 'threw', id: message.id, error: { name: described.name, message: described.message, stack: described.stack ?? described.message } });
        process.exit(ExitCode.inferenceThrew);
      },
    ).finally(() => {
      controllers.delete(message.id);
      running--;
      pump();
    });
  };
  await send({ type: 'ready', schema, options: forwarded });
}
