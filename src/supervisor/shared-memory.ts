/**
 * Large binary inputs handed to the worker in shared memory: in the supervisor, a large body (or
 * a multipart body's files) is gathered into a memory file (a memfd) with pwrite, and the worker
 * maps that file (`/proc/<supervisor>/fd/<fd>`) instead of receiving the bytes on the byte
 * stream. The bytes are copied once, from the socket's chunks into the file, and their pages are
 * counted once: the supervisor's own view of the file (a mapping it reads the image's header
 * through) holds only the pages it reads, the worker's holds them all. Needs the native helper;
 * without it, or where a worker cannot open the file (a /proc it may not read), values travel
 * on the byte stream as before. See docs/explanation/supervisor.md.
 */
import { closeSync, writeSync } from 'node:fs';
import type { GatherBuffer } from '../inputs/gather-buffer.js';
import { loadNativeHelper, type NativeHelper } from './native-helper.js';

/**
 * Bodies shorter than this are gathered on the heap, and their large values go on the byte stream:
 * a memory file's pages are fresh pages the kernel allocates for each file, where the heap reuses
 * its own, and a 1.45 MB image through a memory file cost the supervisor about 2 ms more system
 * time than through the byte stream (M1; bench/README.md). From a few MB on the heap's buffer is
 * fresh pages too: a 9 MB upload cost about the same either way, a 50 MB one less through the
 * file, and the body is held once rather than twice (the supervisor's copy and the worker's).
 */
export const sharedValueThreshold = 8 * 1024 * 1024;

/** Where the worker finds the supervisor's probe file: `<pid>:<fd>:<name>` (set by the supervisor). */
export const sharedMemoryVariable = 'AI_INTEGRATION_SHARED_MEMORY';

/** A value the worker maps: bytes [offset, offset + length) of memory file `name`, the supervisor's fd `fd`. */
export interface SharedValue {
  key: string;
  fd: number;
  name: string;
  offset: number;
  length: number;
}
export type SharedValues = SharedValue[];

interface MemoryFile {
  fd: number;
  name: string;
  open: boolean;
}

type SharedMemoryHelper = Required<Pick<NativeHelper, 'createMemoryFile' | 'mapMemoryFile' | 'mapSharedFile'>>;

function helper(): SharedMemoryHelper | undefined {
  const loaded = loadNativeHelper();
  if (loaded instanceof Error || typeof loaded.createMemoryFile !== 'function' || typeof loaded.mapSharedFile !== 'function') return undefined;
  return loaded as SharedMemoryHelper;
}

// The memory file behind each mapping the supervisor made, by the mapping's ArrayBuffer (every
// view of a gathered body shares it).
const files = new WeakMap<ArrayBufferLike, MemoryFile>();
// A file no request closed (a body refused before it reached the engine) closes with its mapping.
const closer = new FinalizationRegistry<MemoryFile>((file) => closeMemoryFile(file));
let counter = 0;

function closeMemoryFile(file: MemoryFile): void {
  if (!file.open) return;
  file.open = false;
  closeSync(file.fd);
}

/**
 * A gather buffer in a fresh memory file of `length` bytes, or undefined (too short to be worth
 * it, no helper, or the kernel refused: the caller gathers on the heap).
 */
export function sharedGatherBuffer(length: number): GatherBuffer | undefined {
  const native = helper();
  if (!native || length < sharedValueThreshold) return undefined;
  const name = `ai-integration-${process.pid}-${++counter}`;
  let fd: number | undefined;
  try {
    fd = native.createMemoryFile(name, length);
    const bytes = native.mapMemoryFile(fd, length);
    const file: MemoryFile = { fd, name, open: true };
    files.set(bytes.buffer, file);
    closer.register(bytes.buffer, file);
    // Written through the file, not the mapping, so that the supervisor's mapping holds no page it
    // did not read (the worker's mapping counts them).
    return { bytes, write: (chunk, at) => writeFully(fd!, chunk, at) };
  } catch {
    if (fd !== undefined) closeSync(fd);
    return undefined;
  }
}

function writeFully(fd: number, chunk: Uint8Array, at: number): void {
  let written = 0;
  while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written, at + written);
}

/** How the worker can map `value` (a view of a memory file still open), or undefined. */
export function sharedValueOf(key: string, value: Uint8Array): SharedValue | undefined {
  const file = files.get(value.buffer);
  if (!file?.open) return undefined;
  return { key, fd: file.fd, name: file.name, offset: value.byteOffset, length: value.byteLength };
}

/**
 * Closes the memory files behind `inputs`' large values: their request is answered, so no worker
 * will map them again (the supervisor's own view stays readable until it is collected).
 */
export function releaseSharedValues(inputs: Record<string, unknown>): void {
  for (const value of Object.values(inputs)) {
    if (!(value instanceof Uint8Array) || value.byteLength < sharedValueThreshold) continue;
    const file = files.get(value.buffer);
    if (file) closeMemoryFile(file);
  }
}

/** The probe a worker maps at start to tell whether it can map the supervisor's files; undefined without the helper. */
let probe: { variable: string } | undefined | null = null;
const probeBytes = Buffer.from('ai-integration shared memory probe');
export function sharedMemoryProbe(): string | undefined {
  if (probe !== null) return probe?.variable;
  probe = undefined;
  const native = helper();
  if (!native) return undefined;
  try {
    const name = `ai-integration-${process.pid}-probe`;
    const fd = native.createMemoryFile(name, probeBytes.length);
    writeFully(fd, probeBytes, 0);
    probe = { variable: `${process.pid}:${fd}:${name}` };
  } catch {
    return undefined;
  }
  return probe.variable;
}

/** In the worker: whether the supervisor's files can be mapped (the probe `variable` names maps and reads back). */
export function canMapSharedValues(variable: string | undefined): boolean {
  const native = helper();
  const match = /^(\d+):(\d+):(.+)$/.exec(variable ?? '');
  if (!native || !match) return false;
  try {
    const bytes = native.mapSharedFile(`/proc/${match[1]}/fd/${match[2]}`, match[3]!, 0, probeBytes.length);
    return bytes.equals(probeBytes);
  } catch {
    return false;
  }
}

/** In the worker: the value's bytes, mapped from the supervisor's memory file (a private, writable view). */
export function mapSharedValue(supervisorPid: number, value: SharedValue): Buffer {
  return helper()!.mapSharedFile(`/proc/${supervisorPid}/fd/${value.fd}`, value.name, value.offset, value.length);
}
