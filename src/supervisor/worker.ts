import {
  applyRequestEnvironment,
  asBuffers,
  workerEnvironmentVariable,
  type ForwardedOptions,
  type SupervisorMessage,
  type WorkerMessage,
} from './worker-protocol.js';
import { Cancellation } from '../engine/cancellation.js';
import { Outbox, unpackMessages, type Delivery, type ManyMessages } from './message-outbox.js';
import { ByteChannel, byteStreamFdVariable, takeLargeResultValues } from './byte-channel.js';
import { canMapSharedValues, mapSharedValue, sharedMemoryVariable, type SharedValues } from './shared-memory.js';
import { setOwn } from '../inputs/safe-record.js';
import { AiIntegrationError, ExitCode, InferenceThrewError, PredictionCanceledError } from '../errors.js';
import { validateOutputDescription } from '../result/output-description.js';
import { validateSchema } from '../inputs/schema.js';
import { inProcessModeNames, registeredModuleUrls } from '../registry.js';
import type { Engine, InferenceResult, InputsSchema, StartLoopOptions } from '../types.js';

/** Whether this process is a model worker started by the `ai-integration` supervisor. */
export function isSupervisedWorker(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env[workerEnvironmentVariable] === '1' && typeof process.send === 'function';
}

// Large binary inputs arrive, and large result data leaves, on the byte stream beside the IPC
// channel (byte-channel.ts). A frame that differs from its announcement is the supervisor's bug
// or a stranger writing to the fd: nothing read after it can be trusted, so the worker ends.
let bytes: ByteChannel | undefined;
function byteChannel(): ByteChannel | undefined {
  const fd = Number(process.env[byteStreamFdVariable]);
  if (bytes || !Number.isInteger(fd) || fd < 3) return bytes;
  bytes = ByteChannel.open(fd, (error) => {
    process.stderr.write(`ai-integration: the model worker's byte stream from the supervisor is broken (${error.message}); exiting\n`);
    process.exit(ExitCode.modelFailed);
  });
  // The IPC channel keeps the worker alive, and its end ends the worker.
  bytes.unref();
  return bytes;
}

// Results, chunks and the rest go out together once per turn of the event loop (see Outbox).
let outbox: Outbox<WorkerMessage> | undefined;
function send(message: WorkerMessage): Promise<Delivery> {
  outbox ??= new Outbox((packed, callback) => {
    process.send!(packed, undefined, {}, callback);
    bytes?.sent(packed);
  });
  return new Promise((resolve) => outbox!.send(message, resolve));
}

/** A result message, with its data on the byte stream when it is large. */
function resultMessage(id: number, result: InferenceResult, predictMs: number): WorkerMessage {
  const message: Extract<WorkerMessage, { type: 'result' }> = { type: 'result', id, result, predictMs };
  if (!bytes || result === null || typeof result !== 'object') return message;
  return bytes.prepare(
    message,
    result as unknown as Record<string, unknown>,
    (rest) => ({ ...message, result: rest as unknown as InferenceResult }),
    takeLargeResultValues,
  );
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
  for (const key of [
    'mode',
    'name',
    'version',
    'description',
    'output',
    'selfTestRuns',
    'maxInputBytes',
    'maxInputDepth',
    'strictInputs',
    'http',
    'batch',
  ] as const) {
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
  // An engine that schedules its own work (a batch model's, which gathers requests into batches)
  // takes every request at once and the concurrency with it.
  const engineSchedules = engine.capabilities.schedulesOwnWork;
  // What waits in a batch model when a batch throws is the supervisor's to re-send.
  engine.configure({ concurrency: 1, inferenceTimeoutMs: 0, afterThrow: 'keep' });
  engine.events.on('batch', (size) => void send({ type: 'batch', size }));
  let concurrency = engineSchedules ? Number.POSITIVE_INFINITY : 1;
  let running = 0;
  const channel = byteChannel();
  // Whether the worker maps large inputs from the supervisor's memory files: it maps the probe the
  // supervisor named (a /proc it may not read, or no native helper, says no; they then come on
  // the byte stream).
  const probe = process.env[sharedMemoryVariable];
  const sharedMemory = canMapSharedValues(probe);
  const supervisorPid = Number(probe?.split(':')[0]);
  // Requests whose shared inputs could not be mapped (out of memory or of fds): they fail when their turn comes.
  const unmapped = new WeakMap<object, string>();
  const waiting: Extract<SupervisorMessage, { type: 'infer' }>[] = [];
  // Requests whose inputs are still arriving on the byte stream: the queue waits for the first.
  const arriving = new WeakSet<object>();
  const cancellations = new Map<number, Cancellation>();
  const throwReports: Promise<unknown>[] = [];
  const pump = () => {
    // After a throw nothing more runs on this model: the worker is about to exit.
    while (running < concurrency && waiting.length > 0 && !arriving.has(waiting[0]!) && throwReports.length === 0) {
      running++;
      run(waiting.shift()!);
    }
  };
  process.on('message', (received: SupervisorMessage | ManyMessages<SupervisorMessage>) => {
    for (const message of unpackMessages(received)) receive(message);
  });
  const receive = (message: SupervisorMessage) => {
    if (message?.type === 'configure') {
      if (engineSchedules) engine.configure({ concurrency: Math.max(1, message.concurrency), inferenceTimeoutMs: 0, afterThrow: 'keep' });
      else concurrency = Math.max(1, message.concurrency);
      pump();
    } else if (message?.type === 'infer') {
      waiting.push(message);
      if (message.shared) mapShared(message, message.shared);
      if (message.streamed) {
        if (!channel) {
          process.stderr.write('ai-integration: the supervisor sent inputs on a byte stream this worker does not have; exiting\n');
          process.exit(ExitCode.modelFailed);
        }
        arriving.add(message);
        channel.receive(message, message.inputs, () => {
          arriving.delete(message);
          pump();
        });
      }
      pump();
    } else if (message?.type === 'abort') {
      const index = waiting.findIndex((request) => request.id === message.id);
      if (index !== -1) {
        waiting.splice(index, 1);
        void send({ type: 'canceled', id: message.id });
      } else cancellations.get(message.id)?.cancel();
    }
  };
  // Mapped as the message arrives, while the supervisor surely holds the file open.
  const mapShared = (message: Extract<SupervisorMessage, { type: 'infer' }>, shared: SharedValues) => {
    if (!sharedMemory || !Array.isArray(shared)) {
      process.stderr.write('ai-integration: the supervisor sent inputs in shared memory this worker cannot map; exiting\n');
      process.exit(ExitCode.modelFailed);
    }
    try {
      for (const value of shared) setOwn(message.inputs, String(value.key), mapSharedValue(supervisorPid, value));
    } catch (error) {
      unmapped.set(message, (error as Error).message);
    }
  };
  const run = (message: Extract<SupervisorMessage, { type: 'infer' }>) => {
    const notMapped = unmapped.get(message);
    if (notMapped !== undefined) {
      const failure = `the model worker could not map an input from the supervisor's shared memory (${notMapped})`;
      void send({ type: 'failed', id: message.id, error: { code: 'AI_ERR_INTERNAL', message: failure } }).finally(() => {
        running--;
        pump();
      });
      return;
    }
    // The request's own variables (the Lambda trace id), as the model would see them in process.
    applyRequestEnvironment(message.env);
    const cancellation = new Cancellation();
    cancellations.set(message.id, cancellation);
    // Chunks go as they come; the channel keeps their order, and the result comes after them.
    const onChunk = message.chunks ? (chunk: InferenceResult) => void send({ type: 'chunk', id: message.id, chunk }) : undefined;
    const onLog = message.logs ? (text: string) => void send({ type: 'log', id: message.id, text }) : undefined;
    // The model starts on it now, after its wait in this worker's queue; the supervisor's clock
    // would count that wait (and the trip here and back) as the model's time. A batch model's
    // engine says when its batch really ran.
    let reported: number | undefined;
    const started = performance.now();
    engine
      .infer(asBuffers(message.inputs), { signal: cancellation, onChunk, onLog, onPredictTime: (ms) => (reported = ms) })
      .then(
        async (result) => {
          const predictMs = reported ?? performance.now() - started;
          const delivery = await send(resultMessage(message.id, result, predictMs));
          if (!delivery.ok && 'refused' in delivery) {
            const reason = `the result could not be sent to the supervisor: ${delivery.refused.message}`;
            await send({ type: 'result', id: message.id, result: { 'content-type': 'text/plain', data: null, success: false, error: reason }, predictMs });
          }
        },
        async (error: unknown) => {
          if (error instanceof PredictionCanceledError) {
            await send({ type: 'canceled', id: message.id });
            return;
          }
          if (error instanceof AiIntegrationError && !(error instanceof InferenceThrewError)) {
            await send({ type: 'failed', id: message.id, error: { code: error.code, message: error.message } });
            return;
          }
          const thrown = error instanceof InferenceThrewError ? error.cause : error;
          const described = thrown instanceof Error ? thrown : new Error(String(thrown));
          // A batch that threw fails each of its requests in the same turn: every one is reported
          // before the worker exits.
          throwReports.push(
            send({ type: 'threw', id: message.id, error: { name: described.name, message: described.message, stack: described.stack ?? described.message } }),
          );
          if (throwReports.length === 1) setImmediate(() => void Promise.all(throwReports).then(() => process.exit(ExitCode.inferenceThrew)));
        },
      )
      .finally(() => {
        cancellations.delete(message.id);
        running--;
        pump();
      });
  };
  await send({ type: 'ready', schema, options: forwarded, modes: { urls: registeredModuleUrls(), inProcess: inProcessModeNames() }, sharedMemory });
}
