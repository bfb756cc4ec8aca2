import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
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
  if (file) return checkedToken(readTokenFile(file), `AUTH_TOKEN_FILE=${JSON.stringify(file)}`);
  return given === undefined ? undefined : checkedToken(given, 'AUTH_TOKEN');
}

/**
 * The most AUTH_TOKEN_FILE may hold. Node reads at most 16 KiB of request headers by default, so
 * no longer token could ever arrive in an Authorization header; 64 KiB leaves room for padding
 * around a token and is still one read, while /dev/zero or a huge file can never fill memory.
 */
const tokenFileMaxBytes = 64 * 1024;

/**
 * The text of a token file: a regular file (symbolic links followed, as Kubernetes mounts secrets)
 * of at most tokenFileMaxBytes. Anything else is refused before it is read: a device never ends,
 * a FIFO without a writer blocks start-up, and opening some devices does something by itself.
 */
function readTokenFile(file: string): string {
  const named = `AUTH_TOKEN_FILE=${JSON.stringify(file)}`;
  const refuse = (problem: string) => new AiIntegrationError('AI_ERR_INVALID_OPTION', `${named} ${problem}`);
  let found: Stats;
  try {
    found = statSync(file);
  } catch (error) {
    throw refuse(`cannot be read: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message}`);
  }
  checkTokenFile(found, refuse);
  let fd: number;
  try {
    // O_NONBLOCK: if the path became a FIFO since the stat, opening it still returns at once.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw refuse(`cannot be read: ${(error as Error).message}`);
  }
  try {
    // The file opened is the one checked: the path may have been replaced in between.
    checkTokenFile(fstatSync(fd), refuse);
    const buffer = Buffer.alloc(tokenFileMaxBytes + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      length += read;
      if (read === 0 || length === buffer.length) break;
    }
    if (length > tokenFileMaxBytes) throw refuse(tooLarge);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof AiIntegrationError) throw error;
    throw refuse(`cannot be read: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

const tooLarge = `is larger than ${tokenFileMaxBytes / 1024} KiB, far more than a bearer token; name the file that holds only the token`;

function checkTokenFile(found: Stats, refuse: (problem: string) => Error): void {
  if (found.isFile()) {
    if (found.size > tokenFileMaxBytes) throw refuse(tooLarge);
    return;
  }
  const kind = found.isDirectory()
    ? 'a directory'
    : found.isFIFO()
      ? 'a FIFO (named pipe)'
      : found.isCharacterDevice() || found.isBlockDevice()
        ? 'a device'
        : found.isSocket()
          ? 'a socket'
          : 'something else';
  throw refuse(`is ${kind}, not a regular file holding the token; name the file itself (a symbolic link to one is followed)`);
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
