/**
 * What `ai-integration init` writes: a model folder that runs as it is (package.json, the shim,
 * the container template), in JavaScript or TypeScript. The shim and tsconfig.json are files in
 * templates/init/, the Dockerfile and .dockerignore are docker/'s own (TypeScript's Dockerfile,
 * with its build stage, is templates/init/'s): all ship in the package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ModelFolderOptions {
  /** The folder to write into (created when missing). */
  directory: string;
  typescript: boolean;
  /** A packed ai-integration (`npm pack`) to depend on instead of the registry's release. */
  from?: string | undefined;
}

/** One file of the folder: its name there, and its text or the file it is copied from. */
export type PlannedFile = { name: string; text: string } | { name: string; copyFrom: string };

export interface ModelFolder {
  directory: string;
  /** The package's name, also the image's name in the printed commands. */
  name: string;
  files: PlannedFile[];
}

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** This package's root, where package.json, docker/ and templates/ are: from dist/ or from src/init/. */
export function packageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let directory = start; ; directory = dirname(directory)) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'ai-integration') return directory;
    if (dirname(directory) === directory) throw new Error(`ai-integration: its package.json was not found above ${start}`);
  }
}

/** A valid npm package name (and image name) from a folder's name: `My Model!` becomes `my-model`. */
export function packageNameFor(directory: string): string {
  const name = basename(resolve(directory))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
    .slice(0, 100);
  return name || 'my-model';
}

/** The files of a model folder, not written yet. */
export function planModelFolder(options: ModelFolderOptions, root: string = packageRoot()): ModelFolder {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  const directory = resolve(options.directory);
  const name = packageNameFor(directory);
  const templates = join(root, 'templates', 'init');
  const files: PlannedFile[] = [];
  let dependency = `^${manifest.version}`;
  if (options.from !== undefined) {
    // Beside package.json, so that the Dockerfile's `COPY ... *.tgz` takes it into the image.
    const tarball = basename(options.from);
    dependency = `file:${tarball}`;
    if (resolve(options.from) !== join(directory, tarball)) files.push({ name: tarball, copyFrom: resolve(options.from) });
  }
  const shim = options.typescript ? 'shim.ts' : 'shim.js';
  files.unshift({ name: 'package.json', text: `${JSON.stringify(packageJson(name, manifest, dependency, options.typescript), null, 2)}\n` });
  files.push({ name: shim, copyFrom: join(templates, shim) });
  if (options.typescript) files.push({ name: 'tsconfig.json', copyFrom: join(templates, 'tsconfig.json') });
  if (options.typescript) {
    // The image compiles shim.ts in a build stage: forgetting `npm run build` cannot ship a stale
    // or missing shim.js. Its .dockerignore is the template's, letting shim.ts in and shim.js out.
    const ignore = readFileSync(join(root, 'docker', '.dockerignore'), 'utf8') + readFileSync(join(templates, 'dockerignore-typescript.txt'), 'utf8');
    files.push({ name: 'Dockerfile', copyFrom: join(templates, 'Dockerfile.typescript') }, { name: '.dockerignore', text: ignore });
  } else {
    files.push(
      { name: 'Dockerfile', copyFrom: join(root, 'docker', 'Dockerfile') },
      { name: '.dockerignore', copyFrom: join(root, 'docker', '.dockerignore') },
    );
  }
  return { directory, name, files };
}

function packageJson(name: string, manifest: Manifest, dependency: string, typescript: boolean): Record<string, unknown> {
  // The container and `npm start` run the shim under the supervisor, as the Dockerfile's ENTRYPOINT does.
  const build = typescript ? 'npm run build --silent && ' : '';
  return {
    name,
    version: '0.1.0',
    private: true,
    description: `An image model served with ai-integration (replace the statistics in ${typescript ? 'shim.ts' : 'shim.js'} with your model)`,
    type: 'module',
    scripts: {
      ...(typescript ? { build: 'tsc' } : {}),
      start: `${build}ai-integration shim.js`,
      test: `${build}MODE=test_model_integration ai-integration shim.js`,
    },
    dependencies: {
      'ai-integration': dependency,
      sharp: manifest.dependencies?.sharp ?? '*',
    },
    // npm 11 asks before a dependency's install script runs. msgpackr-extract's (through BullMQ)
    // only builds what its prebuilt package already holds, protobufjs's (through gRPC's
    // proto-loader) only warns about its own version scheme: docs/reference/dependencies.md.
    allowScripts: { 'msgpackr-extract': false, protobufjs: false },
    // tsx for `ai-integration dev shim.ts` (no build step), in the range this package takes as its peer.
    ...(typescript
      ? {
          devDependencies: {
            '@types/node': manifest.devDependencies?.['@types/node'] ?? '*',
            tsx: manifest.peerDependencies?.tsx ?? '*',
            typescript: manifest.devDependencies?.typescript ?? '*',
          },
        }
      : {}),
  };
}
