import type { ResultReport } from '../../src/result/check-result.js';
import { AiIntegrationError, InferenceThrewError, errorAnswer } from '../../src/errors.js';
import { outputValue, roundMs, type Prediction } from '../../src/http/predict.js';
import { nativeErrorBody } from '../../src/http/respond.js';
import type { InferenceResult, ModeContext } from '../../src/types.js';
import { runtimeVersion } from '../../src/version.js';
import { isTextual } from '../../src/media-type.js';
import { resultBytes } from '../../src/result/write-result.js';
import { isOutputResult } from '../../src/result/output-fields.js';
import type { ErrorReport } from './runtime-api.js';

/** A checked, successful inference with its time. */
export interface CheckedPrediction {
  result: InferenceResult;
  report: ResultReport;
  predictMs: number;
}

/** The response API Gateway and function URLs expect from a proxy integration. */
export interface ProxyResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** A checked inference as the shared answers (and uploads) take it: no queue in Lambda, one invocation at a time. */
export function predictionOf(checked: CheckedPrediction): Prediction {
  return { inputs: {}, ...checked, mediaType: checked.report.mediaType ?? '', queueMs: 0 };
}

/**
 * A plain event's response: the native API's envelope, as `POST /predict` answers it. JSON output
 * is parsed, text stays text, and binary output is a data: URL, or its URL once uploaded
 * (OUTPUT_UPLOAD_URL), with `uploads` listing the files stored.
 */
export function envelope(requestId: string, prediction: Prediction): object {
  return {
    id: requestId,
    status: 'succeeded',
    output: outputValue(prediction),
    content_type: prediction.result['content-type'],
    metrics: { predict_time_ms: roundMs(prediction.predictMs) },
    ...(prediction.uploads ? { uploads: prediction.uploads } : {}),
  };
}

// What a gateway can pass on as text; anything else travels as base64 with isBase64Encoded.
function isText(mediaType: string): boolean {
  return isTextual(mediaType) || mediaType === 'application/xml' || mediaType.endsWith('+xml');
}

/**
 * A proxied request's response: the result's data as the body, with its content type, binary data
 * as base64. Once its files were uploaded (OUTPUT_UPLOAD_URL) the body is JSON: a structured
 * output's fields with each file's URL, a single file's URL in the native envelope.
 */
export function proxySuccess(requestId: string, prediction: Prediction, head: boolean): ProxyResponse {
  const headers = { 'content-type': prediction.result['content-type'], 'x-request-id': requestId, 'x-predict-time-ms': prediction.predictMs.toFixed(1) };
  if (prediction.uploads) {
    const value = isOutputResult(prediction.result) ? outputValue(prediction) : envelope(requestId, prediction);
    return {
      statusCode: 200,
      headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
      body: head ? '' : JSON.stringify(value),
      isBase64Encoded: false,
    };
  }
  const bytes = resultBytes(prediction.result);
  const text = isText(prediction.report.mediaType ?? '');
  return { statusCode: 200, headers, body: head ? '' : bytes.toString(text ? 'utf8' : 'base64'), isBase64Encoded: !text && !head };
}

/** A proxied request's error: the status, headers and body the native API answers (`{"id", "status": "failed", "error": {code, message, field?}}`). */
export function proxyError(requestId: string, error: unknown): ProxyResponse {
  const answer = errorAnswer(error);
  return {
    statusCode: answer.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...answer.headers },
    body: JSON.stringify({ id: requestId, status: 'failed', ...nativeErrorBody(answer) }),
    isBase64Encoded: false,
  };
}

/** `GET` through a gateway: what the model is and takes, as the native API's /info tells it. */
export function proxyInfo(requestId: string, context: ModeContext, head: boolean): ProxyResponse {
  const info = {
    model: { name: context.modelName, version: context.modelVersion, description: context.modelDescription },
    mode: 'lambda',
    schema: context.schema,
    runtime: { name: 'ai-integration', version: runtimeVersion, node: process.version },
  };
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId },
    body: head ? '' : JSON.stringify(info),
    isBase64Encoded: false,
  };
}

/**
 * An error as Lambda reports it: `errorType` is our stable code (`AI_ERR_INVALID_INPUT`, ...),
 * `stackTrace` the model's stack when it threw (empty for everything else: a caller's mistake
 * gets no stack trace). The Lambda-Runtime-Function-Error-Type header must read
 * `Function.<Name>` or `Runtime.<Name>` for Lambda to keep it, so the code goes there in that form.
 */
export function errorReport(error: unknown, phase: 'Function' | 'Runtime'): { report: ErrorReport; headerType: string } {
  let report: ErrorReport;
  if (error instanceof InferenceThrewError) {
    const thrown = error.cause;
    const stack = thrown instanceof Error && typeof thrown.stack === 'string' ? thrown.stack.split('\n') : [];
    report = { errorMessage: error.message, errorType: error.code, stackTrace: stack };
  } else if (error instanceof AiIntegrationError) {
    report = { errorMessage: error.message, errorType: error.code, stackTrace: [] };
  } else {
    report = {
      errorMessage: `internal error in ai-integration: ${error instanceof Error ? error.message : String(error)}`,
      errorType: 'AI_ERR_INTERNAL',
      stackTrace: [],
    };
  }
  return { report, headerType: `${phase}.${pascalCase(report.errorType)}` };
}

/** AI_ERR_INVALID_INPUT -> InvalidInput. */
function pascalCase(code: string): string {
  return code
    .replace(/^AI_ERR_/, '')
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
