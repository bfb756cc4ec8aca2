import { AiIntegrationError } from './errors.js';
import type { RuntimeSettings, StartLoopOptions } from './types.js';

/** The Python library's HTTP body limit, used for every input that a mode reads whole. */
const defaultMaxInputBytes = 100 * 1024 * 1024;

/** Every environment variable the runtime reads, with what it sets; the README lists the same. */
export const environmentVariables = {
  MODE: 'the mode to run (unset: list the modes, then run command_line)',
  SELF_TEST_RUNS: 'how many inferences test_model_integration runs (default 5)',
  MAX_INPUT_BYTES: 'most bytes read from stdin or an input file (default 104857600, 100 MB)',
  STRICT_INPUTS: 'true: reject inputs the schema does not list (default false: pass them through)',
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
  };
}

function checkedOption(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `startLoop option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** The mode name: the option, then `MODE`; undefined when neither is set. */
export function readModeName(options: StartLoopOptions, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const name = options.mode ?? env.MODE?.trim();
  return name === '' ? undefined : name;
}

function positiveInteger(env: Readonly<Record<string, string | undefined>>, name: keyof typeof environmentVariables): number | undefined {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(env[name])} is not a positive integer`);
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
