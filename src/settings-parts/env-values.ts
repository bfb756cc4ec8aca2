import { AiIntegrationError } from '../errors.js';

/** The environment a setting is read from. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Node's timers turn a delay past 2^31-1 ms into 1 ms, so longer durations are refused. */
export const longestDurationMs = 2 ** 31 - 1;

/**
 * How one variable's text becomes a value: what a row of the settings table (src/settings-table.ts)
 * reads with. `read` gives undefined when the variable is unset or blank, and stops the program
 * with AI_ERR_INVALID_OPTION (exit 3) naming the variable when the value is malformed;
 * `checkOption` holds the startLoop option that sets the same thing to the same bounds.
 */
export interface Parser<T> {
  read(env: Environment, name: string): T | undefined;
  checkOption?(option: string, value: T): void;
}

/** An integer from `least` to `most`, from the environment or a startLoop option. */
export function integer(least = 1, most = Number.MAX_SAFE_INTEGER): Parser<number> & { least: number; most: number } {
  return {
    least,
    most,
    read: (env, name) => integerSetting(env, name, least, most),
    checkOption: (option, value) => checkIntegerOption(option, value, least, most),
  };
}

/** Milliseconds a timer can wait: from `least` to 2^31-1. */
export const duration = (least = 0) => integer(least, longestDurationMs);

/** A TCP port, 0 asking the system for a free one. */
export const port: Parser<number> = {
  read: (env, name) => checkPort(integerSetting(env, name, 0)),
  checkOption(option, value) {
    checkIntegerOption(option, value, 0);
    checkPort(value);
  },
};

/** true/false (also yes/no, on/off, 1/0). */
export const flag: Parser<boolean> = { read: (env, name) => flagSetting(env, name) };

/** Any text, trimmed. */
export const text: Parser<string> = { read: (env, name) => env[name]?.trim() || undefined };

/** One of a few words, in any case: `choice(['text', 'json'])` refuses xml with "is not text or json". */
export function choice<const T extends string>(words: readonly T[]): Parser<T> {
  return {
    read(env, name) {
      const value = env[name]?.trim().toLowerCase();
      if (value === undefined || value === '') return undefined;
      if ((words as readonly string[]).includes(value)) return value as T;
      throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(env[name])} is not ${words.join(' or ')}`);
    },
  };
}

/**
 * An integer variable, or undefined when unset or blank; anything else than digits, or a value
 * outside least..most, stops the program with AI_ERR_INVALID_OPTION (exit 3) naming the variable.
 * Every area's settings read their numbers through this one, so that the rule and the messages
 * are the same for all.
 */
export function integerSetting(env: Environment, name: string, least = 1, most = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < least) {
    const expected = least === 0 ? 'a whole number' : 'a positive integer';
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(env[name])} is not ${expected}`);
  }
  // A limit the runtime cannot honour would fail later, and wrongly (a timer firing at once, a
  // body that cannot become a string): refuse it now, with the maximum.
  if (value > most) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${text} is more than the runtime can honour; the maximum is ${most}`);
  return value;
}

/** A true/false variable (also yes/no, on/off, 1/0), or undefined when unset or blank. */
export function flagSetting(env: Environment, name: string): boolean | undefined {
  const text = env[name]?.trim().toLowerCase();
  if (text === undefined || text === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(env[name])} is not true or false`);
}

/** A TCP port variable (0 asks the system for a free one), or undefined when unset or blank. */
export function portSetting(env: Environment, name = 'PORT'): number | undefined {
  return port.read(env, name);
}

function checkIntegerOption(option: string, value: number, least: number, most = Number.MAX_SAFE_INTEGER): void {
  if (!(Number.isSafeInteger(value) && value >= least && value <= most)) {
    const expected = least === 0 ? 'an integer of 0 or more' : 'a positive integer';
    const bound = most === Number.MAX_SAFE_INTEGER ? '' : ` of at most ${most}`;
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `startLoop option ${option} must be ${expected}${bound}, got ${String(value)}`);
  }
}

function checkPort(value: number | undefined): number | undefined {
  if (value !== undefined && value > 65535) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `the port ${value} is not between 0 and 65535`);
  return value;
}
