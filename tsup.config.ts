import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

export default defineConfig([
  {
    // The library: ESM and CommonJS with declarations. Modes stay separate chunks so that they
    // load only when selected. The supervisor is built here too (its bin, dist/cli.js, imports
    // it), so that it shares every chunk with a mode module that imports the package.
    entry: { index: 'src/index.ts', queue: 'src/queue/client.ts', http: 'src/http/index.ts', supervisor: 'src/supervisor/cli.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    splitting: true,
    sourcemap: true,
    // import.meta.url in the CommonJS build too: src/require-on-first-use.ts loads dependencies from it.
    shims: true,
    clean: false, // the build script empties dist/ once; three configs run at the same time
    target: 'node20',
    outDir: 'dist',
    define: { __AI_INTEGRATION_VERSION__: JSON.stringify(version) },
  },
  {
    // The package's bin (which imports the supervisor from the library's build), the container's
    // health check, and what the supervisor preloads into its model worker.
    entry: { cli: 'src/supervisor/bin.ts', healthcheck: 'src/healthcheck.ts', 'worker-preload': 'src/supervisor/worker-preload.ts' },
    format: ['esm'],
    outDir: 'dist',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    define: { __AI_INTEGRATION_VERSION__: JSON.stringify(version) },
    clean: false,
  },
  {
    // The example shims, compiled as a model author would, importing the package by its name.
    // models/edge-detector.ts writes the ONNX example's model file when the build runs it.
    entry: ['shims/*.ts', 'shims/models/edge-detector.ts'],
    format: ['esm'],
    outDir: 'dist/shims',
    target: 'node20',
    external: ['ai-integration', 'onnxruntime-node'],
    clean: false,
  },
]);
