import { readFileSync } from 'node:fs';
import { AiIntegrationError } from '../errors.js';

/** The environment variables of this area, with what each sets; the README's environment table lists them. */
export const accessVariables = {
  AUTH_TOKEN: 'the bearer token every HTTP route but the liveness and readiness probes requires (unset: the service is open)',
  AUTH_TOKEN_FILE: 'a file holding the bearer token (a mounted secret), read once at start; instead of AUTH_TOKEN',
  ACCESS_LOG: 'false: no access-log line per HTTP request on stderr (default true)',
  LOG_FORMAT: 'text (default) or json: JSON lines for log collectors, for the access log and the rest of the log',
} as const;

/** What the access-log and auth variables set. */
export interface AccessSettings {
  /** The bearer token; undefined: the service is open. */
  token: string | undefined;
  accessLog: boolean;
  logFormat: LogFormat;
}

export type LogFormat = 'text' | 'json';

type Env = Readonly<Record<string, string | undefined>>;

/** Reads AUTH_TOKEN (or AUTH_TOKEN_FILE, once), ACCESS_LOG and LOG_FORMAT; a bad value stops the service. */
export function readAccessSettings(env: Env): AccessSettings {
  return { token: readToken(env), accessLog: readAccessLogFlag(env), logFormat: readLogFormat(env) };
}

/** LOG_FORMAT: `text` or `json`; anything else is refused. */
export function readLogFormat(env: Env): LogFormat {
  const text = env.LOG_FORMAT?.trim().toLowerCase();
  if (text === undefined || text === '' || text === 'text') return 'text';
  if (text === 'json') return 'json';
  throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `LOG_FORMAT=${JSON.stringify(env.LOG_FORMAT)} is not text or json`);
}

function readAccessLogFlag(env: Env): boolean {
  const text = env.ACCESS_LOG?.trim().toLowerCase();
  if (text === undefined || text === '') return true;
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `ACCESS_LOG=${JSON.stringify(env.ACCESS_LOG)} is not true or false`);
}

function readToken(env: Env): string | undefined {
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
  if (/\s/.test(token)) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${source} gives a token with white space inside, which a bearer token in an Authorization header cannot carry`);
  return token;
}
