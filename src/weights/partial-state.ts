import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';

/** One byte range of the file: `done` bytes from `start` are written to the partial file. */
export interface Piece {
  start: number;
  length: number;
  done: number;
}

/**
 * What a ranged download has done so far, kept beside the partial file (`.NAME.partial.json`) so
 * that the next start resumes it: the same URL, size and validator, and each piece's bytes written.
 */
export interface PartialState {
  url: string;
  size: number;
  /** The server's ETag, else Last-Modified: a file that changed since is fetched again from the start. */
  validator: string | undefined;
  pieces: Piece[];
}

/** The partial download's state, when one of this file (URL, size, validator) is on disk beside its partial file. */
export async function readPartialState(statePath: string, partialPath: string, expected: Omit<PartialState, 'pieces'>): Promise<PartialState | undefined> {
  try {
    const state = JSON.parse(await readFile(statePath, 'utf8')) as PartialState;
    const partial = await stat(partialPath);
    const same = state.url === expected.url && state.size === expected.size && state.validator === expected.validator && partial.size === expected.size;
    const sound = Array.isArray(state.pieces) && state.pieces.every((piece) => piece.done >= 0 && piece.done <= piece.length);
    return same && sound ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the state whole or not at all. */
export const writePartialState = (statePath: string, state: PartialState): Promise<void> => writeJsonWhole(statePath, state);

/** Writes `value` as JSON whole or not at all: a temporary file (PATH.tmp) renamed over it, so a crash never leaves half of it. */
export async function writeJsonWhole(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(value));
  await rename(`${path}.tmp`, path);
}

export async function removePartial(partialPath: string, statePath: string): Promise<void> {
  await Promise.all([rm(partialPath, { force: true }), rm(statePath, { force: true }), rm(`${statePath}.tmp`, { force: true })]);
}

/** Splits `size` bytes into pieces for `connections` connections: each 8 to 64 MiB, so that no piece is left to one slow connection for long. */
export function planPieces(size: number, connections: number): Piece[] {
  const length = Math.min(64 * 2 ** 20, Math.max(8 * 2 ** 20, Math.ceil(size / connections)));
  const pieces: Piece[] = [];
  for (let start = 0; start < size; start += length) pieces.push({ start, length: Math.min(length, size - start), done: 0 });
  return pieces;
}

/** Bytes written so far. */
export const bytesDone = (pieces: readonly Piece[]) => pieces.reduce((sum, piece) => sum + piece.done, 0);
