import { status as grpcStatus } from '@grpc/grpc-js';
import { errorAnswer, type ErrorAnswer, type ErrorCode } from '../../src/errors.js';
import { openInferenceStatuses } from './errors.js';

/**
 * Each error code's gRPC status, where it is not INTERNAL: a malformed or invalid request is
 * INVALID_ARGUMENT (naming the tensor), no room now (the queue, a message past MAX_INPUT_BYTES)
 * RESOURCE_EXHAUSTED, a server that takes no work (draining, a model that failed) UNAVAILABLE.
 * What is left is the model's fault (a throw, a failure it reported, a malformed result) or ours:
 * INTERNAL.
 */
const statusOfCode: Partial<Record<ErrorCode, grpcStatus>> = {
  AI_ERR_USAGE: grpcStatus.INVALID_ARGUMENT,
  AI_ERR_MALFORMED_INPUT: grpcStatus.INVALID_ARGUMENT,
  AI_ERR_INVALID_INPUT: grpcStatus.INVALID_ARGUMENT,
  AI_ERR_PICKLE_MALFORMED: grpcStatus.INVALID_ARGUMENT,
  AI_ERR_PICKLE_GLOBAL: grpcStatus.INVALID_ARGUMENT,
  AI_ERR_PICKLE_UNSUPPORTED: grpcStatus.INVALID_ARGUMENT,
  AI_ERR_UNSUPPORTED_MEDIA_TYPE: grpcStatus.INVALID_ARGUMENT,
  AI_ERR_INPUT_TOO_LARGE: grpcStatus.RESOURCE_EXHAUSTED,
  AI_ERR_QUEUE_FULL: grpcStatus.RESOURCE_EXHAUSTED,
  AI_ERR_WEBHOOKS_BEHIND: grpcStatus.RESOURCE_EXHAUSTED,
  AI_ERR_UNAUTHORIZED: grpcStatus.UNAUTHENTICATED,
  AI_ERR_NOT_FOUND: grpcStatus.NOT_FOUND,
  AI_ERR_METHOD_NOT_ALLOWED: grpcStatus.UNIMPLEMENTED,
  AI_ERR_NOT_READY: grpcStatus.UNAVAILABLE,
  AI_ERR_OVERLOADED: grpcStatus.UNAVAILABLE,
  AI_ERR_WORKER_START_FAILED: grpcStatus.UNAVAILABLE,
  AI_ERR_BODY_TIMEOUT: grpcStatus.DEADLINE_EXCEEDED,
  AI_ERR_TIMEOUT: grpcStatus.DEADLINE_EXCEEDED,
  AI_ERR_CANCELED: grpcStatus.CANCELLED,
};

/** An error as a gRPC call ends with it: its status and message, and the answer REST would give (metrics count its status). */
export interface GrpcFailure {
  code: grpcStatus;
  details: string;
  answer: ErrorAnswer;
}

/**
 * The gRPC status of an error, with the message REST answers (the error table's, details of
 * anything not ours kept out).
 * @example grpcFailure(new AiIntegrationError('AI_ERR_QUEUE_FULL', 'the queue is full')) // { code: RESOURCE_EXHAUSTED, ... }
 */
export function grpcFailure(error: unknown): GrpcFailure {
  const answer = errorAnswer(error, openInferenceStatuses);
  return { code: statusOfCode[answer.code] ?? grpcStatus.INTERNAL, details: answer.message, answer };
}
