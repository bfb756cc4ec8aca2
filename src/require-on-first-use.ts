import { createRequire } from 'node:module';

/**
 * A CommonJS dependency loaded by its first use instead of at start-up, synchronously, so a caller
 * on a synchronous path (a log line, an image check, a multipart parser) stays synchronous.
 * Start-up then loads only what the selected mode uses (test/e2e/startup-imports.test.ts).
 * @example const loadBusboy = requireOnFirstUse<typeof import('busboy')>('busboy'); loadBusboy()({ headers })
 */
export function requireOnFirstUse<T>(specifier: string): () => T {
  let loaded: { module: T } | undefined;
  return () => (loaded ??= { module: createRequire(import.meta.url)(specifier) as T }).module;
}
