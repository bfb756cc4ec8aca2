import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: ESM and CommonJS with declarations. Modes stay separate chunks so that they
    // load only when selected.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    splitting: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    outDir: 'dist',
  },
  {
    // The example shims, compiled as a model author would, importing the package by its name.
    entry: ['shims/*.ts'],
    format: ['esm'],
    outDir: 'dist/shims',
    target: 'node20',
    external: ['ai-integration'],
    clean: false,
  },
]);
