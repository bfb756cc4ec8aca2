import { AiIntegrationError, ExitCode, type InferenceThrewError } from '../errors.js';
import { plural } from '../plural.js';
import type { ModeContext } from '../types.js';
import type { HttpProtocol, ModelInfo } from './protocol.js';
import { createHttpService } from './server.js';

/** Ways a protocol may end the service itself (Cog's `POST /shutdown`). */
export interface ServiceControl {
  /** Drains as on SIGTERM, then the mode ends with exit code 0. */
  shutdown(reason: string): void;
}

/**
 * Serves a protocol until SIGTERM or SIGINT (exit 0 after draining). When the model throws,
 * the throwing request gets its error; then, run directly, the process exits with the "threw"
 * code to be restarted, or, under the supervisor, the model restarts in place and the service
 * carries on. Every HTTP-speaking mode is `serveHttp(context, itsProtocol)`. Embedded
 * (`context.embedded`), it hands the running service over instead of handling the signals.
 */
export async function serveHttp(context: ModeContext, makeProtocol: (control: ServiceControl) => HttpProtocol): Promise<number> {
  const service = await startHttpService(context, makeProtocol, { handleSignals: context.embedded === undefined });
  context.embedded?.started(service);
  return service.finished;
}

/** A running HTTP service. */
export interface HttpServiceHandle {
  /** Where it listens (the port the system chose for port 0). */
  readonly address: { host: string; port: number };
  /** Drains as SIGTERM does; resolves with the exit code the service ended with. */
  close(reason?: string): Promise<number>;
  /** Resolves with the exit code once the service has ended, however it ended. */
  readonly finished: Promise<number>;
}

/**
 * `serveHttp`'s first half: the service, listening, and a handle to it, so that it can run inside
 * a test's own process. `handleSignals: false` leaves SIGTERM and SIGINT to the caller.
 * @example const service = await startHttpService(context, () => protocol, { handleSignals: false }); ...; await service.close();
 */
export async function startHttpService(
  context: ModeContext,
  makeProtocol: (control: ServiceControl) => HttpProtocol,
  options: { handleSignals?: boolean } = {},
): Promise<HttpServiceHandle> {
  const { http } = context.settings;
  const model: ModelInfo = {
    name: context.modelName,
    version: context.modelVersion,
    description: context.modelDescription || `${context.modelName}, served by ai-integration`,
  };

  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let shuttingDown = false;

  const shutdown = async (code: number, status: 'shutting_down' | 'failed', reason: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    service.readiness.status = status;
    service.readiness.reason = reason;
    const { scheduler } = service;
    // Every request that has arrived gets its answer: an upload still being read when SIGTERM
    // came is served if it completes within the drain; requests arriving from now on get 503.
    // A model in a bad state takes no more work at all.
    const answered = service.connections.drain();
    if (status === 'failed') scheduler.stopAccepting();
    // Background work (a queue's consumer) takes no more and finishes what it holds, in the drain.
    const background = service.background?.stop().catch((error: unknown) => context.log.error(`shutdown: ${(error as Error).message}`));
    // On SIGTERM the listener closes at once, so that the load balancer sends no more. After a
    // model fault it stays open while the drain lasts, so probes see readiness and liveness say
    // 503 instead of a refused connection.
    let closed = status === 'failed' ? undefined : closeListener();
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), http.shutdownTimeoutMs).unref());
    // Requests first: one still uploading has not reached the scheduler yet.
    // Then what the model finished and is still being uploaded (OUTPUT_UPLOAD_URL), then the
    // `completed` webhooks those predictions owe, retries included.
    const idle = Promise.all([answered, background])
      .then(() => scheduler.whenIdle())
      .then(() => {
        const { unfinished } = service.core.predictions;
        if (unfinished > 0)
          context.log.info(`shutdown: waiting for ${plural(unfinished, 'prediction')} the model has answered, still checking or uploading its result`);
        return service.core.predictions.whenFinished();
      })
      .then(() => service.core.predictions.webhooksDelivered());
    const timedOut = (await Promise.race([idle, deadline])) === 'timeout';
    if (timedOut) {
      context.log.warn(
        `shutdown: ${plural(service.connections.requestsInFlight, 'request')} in flight and ${plural(scheduler.inFlight + scheduler.queueDepth, 'inference')} running or queued after ${http.shutdownTimeoutMs} ms (SHUTDOWN_TIMEOUT_MS); answering them 503 and closing`,
      );
    }
    scheduler.stopAccepting();
    if (timedOut) {
      // Every request still unanswered gets its 503 before the connections close, never a
      // connection closed with no bytes: what waits in the queue is refused (its handler answers),
      // then what is still running in the model, or still uploading, is answered here.
      const gone = new AiIntegrationError(
        'AI_ERR_NOT_READY',
        `the server shut down before this request was answered: it was not done within SHUTDOWN_TIMEOUT_MS (${http.shutdownTimeoutMs} ms) of the shutdown; send it again, to another replica`,
      );
      scheduler.rejectQueued(gone);
      await new Promise((resolve) => setImmediate(resolve));
      service.answerUnanswered(gone);
    }
    closed ??= closeListener();
    // The last answers are written as their inferences settle; then keep-alive connections go idle.
    await new Promise((resolve) => setImmediate(resolve));
    service.server.closeIdleConnections();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    service.server.closeAllConnections();
    await service.core.predictions.closeWebhooks();
    finish(code);
  };

  const closeListener = () => {
    const closed = new Promise<void>((resolve) => service.server.close(() => resolve()));
    service.server.closeIdleConnections();
    return closed;
  };

  // A throw or an inference past its timeout: the fault policy says whether the process ends.
  const onModelFault = (error: InferenceThrewError | AiIntegrationError) => {
    const verdict = context.faults.report(error);
    if (!verdict.end) return;
    // Nothing else may run on a model in a bad state: what waits is refused, then the process exits.
    service.scheduler.rejectQueued(new AiIntegrationError('AI_ERR_NOT_READY', 'the model failed and the process is restarting; retry shortly'));
    // Readiness says so now, before the failing request's answer is written: a probe that follows
    // that answer must never be told the model is ready.
    if (service.readiness.status === 'ready') {
      service.readiness.status = 'failed';
      service.readiness.reason = verdict.reason;
    }
    // Let the failing request's answer go out before the listener closes.
    setImmediate(() => void shutdown(verdict.exitCode, 'failed', verdict.reason));
  };

  const protocol = makeProtocol({ shutdown: (reason) => setImmediate(() => void shutdown(ExitCode.success, 'shutting_down', reason)) });
  const service = createHttpService(context, protocol, model, onModelFault);
  // The supervisor gave up restarting the model: every waiting request has its answer (503);
  // drain them out, then end with the error.
  context.engine.events.on('failed', (error) => {
    context.log.error(error.message);
    void shutdown(ExitCode.inferenceThrew, 'failed', error.message);
  });
  const port = http.port ?? protocol.defaultPort;
  await new Promise<void>((resolve, reject) => {
    service.server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new AiIntegrationError(
          'AI_ERR_INVALID_OPTION',
          `cannot listen on ${http.host}:${port}: ${error.code === 'EADDRINUSE' ? 'the address is in use' : error.message}`,
        ),
      );
    });
    service.server.listen(port, http.host, () => resolve());
  });
  const address = service.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  context.log.info(`listening on http://${http.host}:${bound} (${protocol.summary})`);
  if (protocol.background) service.background = await protocol.background(service.core);

  const onSignal = (signal: NodeJS.Signals) => {
    context.log.info(`${signal}: draining in-flight and queued work, then exiting`);
    void shutdown(ExitCode.success, 'shutting_down', `received ${signal}`);
  };
  if (options.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void finished.then(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  }
  return {
    address: { host: http.host, port: bound },
    close: (reason = 'closed') => {
      void shutdown(ExitCode.success, 'shutting_down', reason);
      return finished;
    },
    finished,
  };
}
