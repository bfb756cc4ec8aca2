import { readFileSync } from 'node:fs';
import { AiIntegrationError } from '../errors.js';
import { choice, type Environment, type Parser } from './env-values.js';

/** What the access-log and auth variables set. */
export interface AccessSettings {
  /** The bearer token; undefined: the service is open. */
  token: string | undefined;
  accessLog: boolean;
  logFormat: LogFormat;
}

export type LogFormat = 'text' | 'json';

/** LOG_FORMAT: `text` or `json`; anything else is refused. */
export const logFormat = choice<LogFormat>(['text', 'json']);

/** AUTH_TOKEN, or the token in the file AUTH_TOKEN_FILE names (read once); empty, or both set, is refused. */
export const bearerToken: Parser<string> = { read: (env) => readToken(env) };

function readToken(env: Environment): string | undefined {
  const given = env.AUTH_TOKEN;
  const file = env.AUTH_TOKEN_FILE?.trim();
  if (given !== undefined && file) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', 'AUTH_TOKEN and AUTH_TOKEN_FILE are both set; set one');
  let token: string;
  if (file) {
    try {
      token = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message;
      throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `AUTH_TOKEN_FILE=${JSON.stringify(file)} cannot be read: ${reason}`);
    }
    return checkedToken(token, `AUTH_TOKEN_FILE=${JSON.stringify(file)}`);
  }
  return given === undefined ? undefined : checkedToken(given, 'AUTH_TOKEN');
}

function checkedToken(text: string, source: string): string {
  const token = text.trim();
  // An empty token would let in anyone who sends "Bearer ": a mistake, never a way to turn auth off.
  if (token === '') throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${source} gives an empty token; set one, or unset it to serve without auth`);
  if (/\s/.test(token))
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `${source} gives a token with white space inside, which a bearer token in an Authorization header cannot carry`,
    );
  return token;
}
