import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The native helper built from native/reaper.c (Linux only). */
export interface NativeHelper {
  reapExited(pid: number): boolean;
  becomeSubreaper(): boolean;
  signalOnParentDeath(signal: number): boolean;
  setSendBufferSize(fd: number, bytes: number): number;
  /** A memfd of `length` bytes (close-on-exec); its fd. Absent from a helper built before it. */
  createMemoryFile?(name: string, length: number): number;
  /** A Buffer over a shared mapping of memory file `fd`, unmapped when collected. */
  mapMemoryFile?(fd: number, length: number): Buffer;
  /** A Buffer over a private mapping of bytes [offset, offset + length) of the memfd called `name` at `path`. */
  mapSharedFile?(path: string, name: string, offset: number, length: number): Buffer;
}

let loaded: NativeHelper | Error | undefined;

/** The helper, or why it cannot be loaded (not built: no compiler at build time, or not Linux). */
export function loadNativeHelper(): NativeHelper | Error {
  if (loaded !== undefined) return loaded;
  try {
    // Beside the bundled chunk in dist/; the path is computed so the bundler leaves it alone.
    const path = fileURLToPath(new URL('./native/reaper.node', import.meta.url));
    loaded = createRequire(import.meta.url)(path) as NativeHelper;
  } catch (error) {
    loaded = error instanceof Error ? error : new Error(String(error));
  }
  return loaded;
}
