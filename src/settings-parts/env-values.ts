import { AiIntegrationError } from '../errors.js';

/** The environment a setting is read from. */
export type Environment = Readonly<Record<string, string | undefined>>;

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
  return integerSetting(env, name, 0, 65535);
}
