import type { HashName } from './hash-follower.js';

/** Where a download goes and what it reports. */
export interface DownloadOptions {
  url: string;
  partialPath: string;
  statePath: string;
  connections: number;
  signal: AbortSignal;
  /** The size, once the server said it (undefined when it does not), and the bytes already there from an earlier try. */
  onStart(size: number | undefined, resumedBytes: number): void;
  /** Bytes received (written to the file soon after, and before the download resolves or rejects). */
  onBytes(bytes: number): void;
  /** A connection failed and is tried again from where it stopped. */
  onRetry(message: string): void;
  /** Headers sent with every request, asked for each time (a bearer token that may be renewed meanwhile). */
  headers?: () => Promise<Record<string, string>>;
  /** Hashes to take besides sha256 (Cloud Storage lists an object's md5 or crc32c). */
  alsoHash?: readonly HashName[];
}

/** What was downloaded: its sha256 and size, and every hash asked for, in hex. */
export interface Downloaded {
  sha256: string;
  size: number;
  hashes: Partial<Record<HashName, string>>;
}

/** A failure that trying again cannot mend (the server refuses, the file changed). */
export class PermanentDownloadError extends Error {}

/** An error as one line: its message, with the system's code (ECONNRESET) where there is one. */
export function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code;
  const cause = error.cause instanceof Error && error.cause.message !== error.message ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}${code && !error.message.includes(code) ? ` (${code})` : ''}`;
}
