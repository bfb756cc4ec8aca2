import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AiIntegrationError } from './errors.js';
import type { StartLoopOptions } from './types.js';

/** The model as the shim's package describes it: what its package.json gives, each field when present. */
export interface PackageMetadata {
  /** The package.json the fields were read from. */
  path: string;
  name?: string;
  version?: string;
  description?: string;
}

/** The model's name, version and description, every default applied (the environment's overrides are the caller's). */
export interface ModelMetadata {
  name: string;
  version: string;
  description: string;
}

// This package's own manifest describes the runtime, never a model: a shim inside it (the
// examples, the tests) has no package of its own.
const runtimePackageName = 'ai-integration';

/**
 * Finds the package.json that describes a shim in `directory`: the nearest one upwards that has a
 * `name` (one without, such as `{"type": "module"}` in a build folder, only sets the module
 * format), stopping at the filesystem root, at a `node_modules` folder (the shim's package is
 * inside it, never the one that installed it) and at the runtime's own package.
 * @example findPackageMetadata('/model') // { path: '/model/package.json', name: 'sentiment', version: '1.2.0' }
 */
export function findPackageMetadata(directory: string): PackageMetadata | undefined {
  for (let current = resolve(directory); basename(current) !== 'node_modules'; ) {
    const path = join(current, 'package.json');
    const manifest = readManifest(path);
    if (manifest && typeof manifest.name === 'string' && manifest.name.trim() !== '') {
      if (manifest.name === runtimePackageName) return undefined;
      const metadata: PackageMetadata = { path, name: unscoped(manifest.name.trim()) };
      if (typeof manifest.version === 'string' && manifest.version.trim() !== '') metadata.version = manifest.version.trim();
      if (typeof manifest.description === 'string' && manifest.description.trim() !== '') metadata.description = manifest.description.trim();
      return metadata;
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
  return undefined;
}

/**
 * The model's name, version and description: the `startLoop` options, else the package.json
 * beside the shim, else the shim's file name, '1' and ''. The package.json is read only when an
 * option is missing.
 */
export function describeModel(options: Pick<StartLoopOptions, 'name' | 'version' | 'description'>, shim: string | undefined): ModelMetadata {
  const complete = options.name !== undefined && options.version !== undefined && options.description !== undefined;
  const found = complete || shim === undefined ? undefined : findPackageMetadata(dirname(resolve(shim)));
  return {
    name: options.name ?? found?.name ?? (shim === undefined ? 'model' : basename(shim).replace(/\.[cm]?[jt]s$/, '')),
    version: options.version ?? found?.version ?? '1',
    description: options.description ?? found?.description ?? '',
  };
}

// A scope names the publisher, not the model; and the name travels in URL paths
// (/v2/models/{name}/infer), where a slash would split it.
function unscoped(name: string): string {
  return name.startsWith('@') && name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
}

function readManifest(path: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw metadataError(path, (error as Error).message);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw metadataError(path, `it is not valid JSON (${(error as Error).message})`);
  }
  return manifest !== null && typeof manifest === 'object' && !Array.isArray(manifest) ? (manifest as Record<string, unknown>) : undefined;
}

function metadataError(path: string, reason: string): AiIntegrationError {
  return new AiIntegrationError(
    'AI_ERR_INVALID_OPTION',
    `cannot read the model's name and version from ${path}: ${reason}; fix it, or pass name, version and description to startLoop`,
  );
}
