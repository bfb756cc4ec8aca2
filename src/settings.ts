import { AiIntegrationError } from './errors.js';
import type { HttpSettings, RuntimeSettings, StartLoopOptions } from './types.js';

/** The Python library's HTTP body limit, used for every input that a mode reads whole. */
const defaultMaxInputBytes = 100 * 1024 * 1024;

/** Every environment variable the runtime reads, with what it sets; the README lists the same. */
export const environmentVariables = {
  MODE: 'the mode to run (unset: list the modes, then run command_line)',
  SELF_TEST_RUNS: 'how many inferences test_model_integration runs (default 5)',
  MAX_INPUT_BYTES: 'most bytes read from stdin, an input file or an HTTP request body (default 104857600, 100 MB)',
  STRICT_INPUTS: 'true: reject inputs the schema does not list (default false: pass them through)',
  PORT: 'the HTTP port (default 5000)',
  HOST: 'the HTTP address to listen on (default 0.0.0.0)',
  CONCURRENCY: 'inferences the HTTP mode runs at once (default 1)',
  MAX_QUEUE: 'HTTP requests that may wait for a free inference slot; more get 429 (default 64)',
  INFERENCE_TIMEOUT_MS: 'longest inference before the HTTP request gets 504; 0 for none (default 300000)',
  SHUTDOWN_TIMEOUT_MS: 'how long SIGTERM waits for in-flight and queued HTTP work (default 8000)',
  MAX_FILES: 'most files in one multipart body (default 16)',
  MAX_FIELDS: 'most non-file fields in one multipart body (default 256)',
  MAX_PARTS: 'most parts in one multipart body (default 512)',
} as const;

/**
 * Reads the settings once, in this order: the option, then the environment, then the default.
 * A malformed value is the operator's mistake and stops the program with a clear error.
 */
export function readSettings(options: StartLoopOptions, env: Readonly<Record<string, string | undefined>>): RuntimeSettings {
  return {
    selfTestRuns: checkedOption('selfTestRuns', options.selfTestRuns) ?? positiveInteger(env, 'SELF_TEST_RUNS') ?? 5,
    maxInputBytes: checkedOption('maxInputBytes', options.maxInputBytes) ?? positiveInteger(env, 'MAX_INPUT_BYTES') ?? defaultMaxInputBytes,
    strictInputs: options.strictInputs ?? booleanFlag(env, 'STRICT_INPUTS') ?? false,
    http: readHttpSettings(options.http ?? {}, env),
  };
}

function readHttpSettings(options: Partial<HttpSettings>, env: Readonly<Record<string, string | undefined>>): HttpSettings {
  const port = checkedOption('http.port', options.port, 0) ?? positiveInteger(env, 'PORT', 0) ?? 5000;
  if (port > 65535) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `the port ${port} is not between 0 and 65535`);
  return {
    port,
    host: options.host ?? (env.HOST?.trim() || '0.0.0.0'),
    concurrency: checkedOption('http.concurrency', options.concurrency) ?? positiveInteger(env, 'CONCURRENCY') ?? 1,
    maxQueue: checkedOption('http.maxQueue', options.maxQueue, 0) ?? positiveInteger(env, 'MAX_QUEUE', 0) ?? 64,
    inferenceTimeoutMs: checkedOption('http.inferenceTimeoutMs', options.inferenceTimeoutMs, 0) ?? positiveInteger(env, 'INFERENCE_TIMEOUT_MS', 0) ?? 300_000,
    shutdownTimeoutMs: checkedOption('http.shutdownTimeoutMs', options.shutdownTimeoutMs, 0) ?? positiveInteger(env, 'SHUTDOWN_TIMEOUT_MS', 0) ?? 8000,
    maxFiles: checkedOption('http.maxFiles', options.maxFiles) ?? positiveInteger(env, 'MAX_FILES') ?? 16,
    maxFields: checkedOption('http.maxFields', options.maxFields) ?? positiveInteger(env, 'MAX_FIELDS') ?? 256,
    maxParts: checkedOption('http.maxParts', options.maxParts) ?? positiveInteger(env, 'MAX_PARTS') ?? 512,
  };
}

function checkedOption(name: string, value: number | undefined, least = 1): number | undefined {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= least)) {
    const expected = least === 0 ? 'an integer of 0 or more' : 'a positive integer';
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `startLoop option ${name} must be ${expected}, got ${String(value)}`);
  }
  return value;
}

/** The mode name: the option, then `MODE`; undefined when neither is set. */
export function readModeName(options: StartLoopOptions, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const name = options.mode ?? env.MODE?.trim();
  return name === '' ? undefined : name;
}

function positiveInteger(env: Readonly<Record<string, string | undefined>>, name: keyof typeof environmentVariables, least = 1): number | undefined {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < least) {
    const expected = least === 0 ? 'a whole number' : 'a positive integer';
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(env[name])} is not ${expected}`);
  }
  return value;
}

function booleanFlag(env: Readonly<Record<string, string | undefined>>, name: keyof typeof environmentVariables): boolean | undefined {
  const text = env[name]?.trim().toLowerCase();
  if (text === undefined || text === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(env[name])} is not true or false`);
}
