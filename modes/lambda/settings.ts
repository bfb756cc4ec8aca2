import { AiIntegrationError } from '../../src/errors.js';

/** The environment variables MODE=lambda reads, with what each sets; docs/reference/environment.md lists them. */
export const lambdaVariables = {
  AWS_LAMBDA_RUNTIME_API:
    'MODE=lambda: host:port of the Lambda runtime API, which Lambda (or the runtime interface emulator, aws-lambda-rie) sets; without it MODE=lambda stops with exit code 3',
  LAMBDA_DEADLINE_MARGIN_MS:
    "MODE=lambda: how long before an invocation's deadline (the function's timeout) an unfinished inference is answered with AI_ERR_TIMEOUT, so that the error reaches the caller before Lambda stops the function (default 200)",
} as const;

/** What MODE=lambda reads from its variables. */
export interface LambdaSettings {
  /** AWS_LAMBDA_RUNTIME_API, as `host:port` (an IPv6 host in brackets). */
  runtimeApi: string;
  /** LAMBDA_DEADLINE_MARGIN_MS. */
  deadlineMarginMs: number;
}

type Environment = Readonly<Record<string, string | undefined>>;

export const defaultDeadlineMarginMs = 200;
// Node's timers turn a longer delay into 1 ms (src/settings.ts's longestDurationMs; importing it
// here would be circular, since settings.ts imports this file's variables).
const longestDelayMs = 2 ** 31 - 1;
// A host name or IPv4 address, or an IPv6 address in brackets, then the port.
const hostAndPort = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * AWS_LAMBDA_RUNTIME_API, checked: without it there is no one to report any other error to, so it
 * is read first, and its absence says where the mode runs.
 * @example readRuntimeApi({ AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' }) // '127.0.0.1:9001'
 */
export function readRuntimeApi(env: Environment): string {
  const value = env.AWS_LAMBDA_RUNTIME_API?.trim();
  if (value === undefined || value === '') {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      "AWS_LAMBDA_RUNTIME_API is not set: MODE=lambda runs inside AWS Lambda, or locally under the Lambda runtime interface emulator (aws-lambda-rie), which set it to the runtime API's host:port; to serve HTTP yourself, use MODE=http",
    );
  }
  const match = hostAndPort.exec(value);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `AWS_LAMBDA_RUNTIME_API=${JSON.stringify(env.AWS_LAMBDA_RUNTIME_API)} is not host:port (such as 127.0.0.1:9001), as Lambda sets it`,
    );
  }
  return value;
}

/**
 * The rest of MODE=lambda's settings; a malformed value stops the program with exit code 3 (after
 * the mode has reported it to the runtime API as an initialization error).
 */
export function readLambdaSettings(env: Environment): LambdaSettings {
  return { runtimeApi: readRuntimeApi(env), deadlineMarginMs: readMargin(env) };
}

function readMargin(env: Environment): number {
  const text = env.LAMBDA_DEADLINE_MARGIN_MS?.trim();
  if (text === undefined || text === '') return defaultDeadlineMarginMs;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > longestDelayMs) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `LAMBDA_DEADLINE_MARGIN_MS=${JSON.stringify(env.LAMBDA_DEADLINE_MARGIN_MS)} is not a whole number of milliseconds from 0 to ${longestDelayMs}`,
    );
  }
  return value;
}
