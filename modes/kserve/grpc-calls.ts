import { hash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Metadata, status as grpcStatus, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { Cancellation } from '../../src/engine/cancellation.js';
import { AiIntegrationError } from '../../src/errors.js';
import { LineSink } from '../../src/http/line-sink.js';
import type { HttpCore } from '../../src/http/protocol.js';
import { grpcFailure } from './grpc-status.js';

/** What a method's handler knows of its call. */
export interface CallContext {
  /** The request id: the client's `x-request-id` metadata when sane, else a new UUID; sent back in the response's metadata. */
  id: string;
  /** Canceled when the client cancels or its deadline passes: the model's AbortSignal follows it. */
  cancellation: Cancellation;
}

export type UnaryHandler<Request, Response> = (request: Request, call: CallContext) => Promise<Response> | Response;

/** A unary method as grpc-js calls it. */
export type UnaryMethod = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

const requestIdPattern = /^[\w.:@/+=-]{1,200}$/;
// One-shot hashing, as the HTTP side compares its token: equal-length digests in constant time.
const digest = (token: string) => hash('sha256', token, 'buffer');

/**
 * The calls of the gRPC server as the HTTP core serves requests: the bearer token (AUTH_TOKEN, from
 * the `authorization` metadata) unless the method is a probe, the request id, the metrics (
 * `http_requests_total` and its latency, labelled by the method's path and the status REST would
 * answer), the access log, and every error answered once with its gRPC status. Calls still running
 * when the drain's deadline comes are answered UNAVAILABLE (`answerPending`).
 */
export class GrpcCalls {
  private readonly expected: Buffer | undefined;
  private readonly accessLine: ((line: AccessLine) => void) | undefined;
  private readonly pending = new Set<(error: AiIntegrationError) => void>();

  constructor(private readonly core: HttpCore) {
    const { access } = core.context.settings;
    this.expected = access.token === undefined ? undefined : digest(access.token);
    this.accessLine = access.accessLog ? accessLog(access.logFormat === 'json') : undefined;
  }

  /** Whether the call's metadata carries the bearer token (always, without AUTH_TOKEN). */
  authorized(metadata: Metadata): boolean {
    if (this.expected === undefined) return true;
    const [header] = metadata.get('authorization');
    if (typeof header !== 'string') return false;
    const found = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return found !== null && timingSafeEqual(digest(found[1]!), this.expected);
  }

  /** The refusal of a call without the token. */
  unauthenticated(metadata: Metadata): AiIntegrationError {
    return new AiIntegrationError(
      'AI_ERR_UNAUTHORIZED',
      metadata.get('authorization').length > 0
        ? 'the bearer token is not the one this service expects'
        : 'this service needs a bearer token: send the metadata authorization: Bearer <token>',
    );
  }

  /** A unary method: `open` ones (the probes) need no token. */
  unary<Request, Response>(path: string, handler: UnaryHandler<Request, Response>, options: { open?: boolean } = {}): UnaryMethod {
    return (call, callback) => {
      const started = performance.now();
      const given = call.metadata.get('x-request-id')[0];
      const id = typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
      const cancellation = new Cancellation();
      let answered = false;
      // Ends the call once, whatever comes first: the handler, the drain's deadline, the client going.
      const finish = (error: unknown, response?: unknown) => {
        if (answered) return;
        answered = true;
        this.pending.delete(answerAtDeadline);
        const failure = error === undefined ? undefined : grpcFailure(error);
        if (failure && !(error instanceof AiIntegrationError)) {
          this.core.context.log.error(`internal error while answering a gRPC call: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        }
        const canceled = call.cancelled;
        const status = canceled ? 499 : (failure?.answer.status ?? 200);
        const code = canceled ? (deadlinePassed(call) ? grpcStatus.DEADLINE_EXCEEDED : grpcStatus.CANCELLED) : (failure?.code ?? grpcStatus.OK);
        this.core.metrics.recordRequest(path, 'POST', status, (performance.now() - started) / 1000);
        this.accessLine?.({ peer: call.getPeer(), path, status, code, started, id });
        if (canceled) return;
        // The headers go out with the answer, in the same tick, so that HTTP/2 writes them together.
        const headers = new Metadata();
        headers.set('x-request-id', id);
        call.sendMetadata(headers);
        if (failure) {
          const trailers = new Metadata();
          trailers.set('x-request-id', id);
          trailers.set('ai-integration-error-code', failure.answer.code);
          const retryAfter = failure.answer.headers['retry-after'];
          if (retryAfter !== undefined) trailers.set('retry-after', retryAfter);
          callback({ code: failure.code, details: failure.details, metadata: trailers });
        } else {
          callback(null, response);
        }
      };
      const answerAtDeadline = (error: AiIntegrationError) => finish(error);
      call.once('cancelled', () => {
        if (!answered) cancellation.cancel();
      });
      if (!options.open && !this.authorized(call.metadata)) {
        finish(this.unauthenticated(call.metadata));
        return;
      }
      this.pending.add(answerAtDeadline);
      try {
        const done = handler(call.request as Request, { id, cancellation });
        if (done instanceof Promise) done.then((response) => finish(undefined, response), finish);
        else finish(undefined, done);
      } catch (error) {
        finish(error);
      }
    };
  }

  /** Answers every call still running with `error`: the drain's deadline has come. */
  answerPending(error: AiIntegrationError): number {
    const pending = [...this.pending];
    for (const answer of pending) answer(error);
    return pending.length;
  }

  /** Calls in progress. */
  get inProgress(): number {
    return this.pending.size;
  }
}

function deadlinePassed(call: ServerUnaryCall<unknown, unknown>): boolean {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) && at <= Date.now();
}

interface AccessLine {
  peer: string;
  path: string;
  status: number;
  code: grpcStatus;
  started: number;
  id: string;
}

/**
 * The access log's line for a gRPC call, in the HTTP access log's shape (text or JSON, LOG_FORMAT)
 * with the gRPC status beside the status REST would answer; bytes are not known per call here.
 */
function accessLog(json: boolean): (line: AccessLine) => void {
  const sink = new LineSink(2, undefined, 10);
  return ({ peer, path, status, code, started, id }) => {
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const name = grpcStatus[code];
    if (json) {
      sink.write(
        `{"level":"info","time":"${new Date().toISOString()}","pid":${process.pid},"method":"POST","path":${JSON.stringify(path)},"status":${status},"grpc_status":"${name}","duration_ms":${durationMs},"request_id":${JSON.stringify(id)},"remote":${JSON.stringify(peer)},"msg":${JSON.stringify(`POST ${path} ${status}`)}}\n`,
      );
    } else {
      sink.write(`${peer} "POST ${path}" ${status} - ${durationMs}ms request_id=${id} grpc_status=${name}\n`);
    }
  };
}
