import { readFileSync } from 'node:fs';
import { buildSync } from 'esbuild';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// The web page's browser code (modes/http/page/browser/) as the one classic script the page
// inlines (modes/http/page.ts reads it from this define): a string constant in the http mode's
// chunk, loaded with the mode as the hand-written script was. Not minified: the page is fetched
// once per visit (25 KB against 14 KB minified), and a model author who opens the page's source or
// a stack trace in the browser reads the code's own names (esbuild keeps them, and drops comments).
function pageScript(): string {
  const { outputFiles } = buildSync({
    entryPoints: ['modes/http/page/browser/main.ts'],
    tsconfig: 'modes/http/page/browser/tsconfig.json',
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'none',
    write: false,
  });
  const code = outputFiles[0]!.text;
  // Inside <script>, HTML would end the element at `</script` and changes how it reads after `<!--`.
  if (/<\/script|<!--/i.test(code)) throw new Error('the page script says </script or <!--, which cannot be inlined in HTML');
  return code;
}
const define = { __AI_INTEGRATION_VERSION__: JSON.stringify(version), __AI_INTEGRATION_PAGE_SCRIPT__: JSON.stringify(pageScript()) };

export default defineConfig([
  {
    // The library: ESM and CommonJS with declarations. Modes stay separate chunks so that they
    // load only when selected. The supervisor is built here too (its bin, dist/cli.js, imports
    // it), so that it shares every chunk with a mode module that imports the package.
    entry: { index: 'src/index.ts', queue: 'src/queue/client.ts', http: 'src/http/index.ts', webhooks: 'src/webhooks.ts', supervisor: 'src/supervisor/cli.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    splitting: true,
    sourcemap: true,
    // import.meta.url in the CommonJS build too: src/require-on-first-use.ts loads dependencies from it.
    shims: true,
    clean: false, // the build script empties dist/ once; three configs run at the same time
    target: 'node20',
    outDir: 'dist',
    define,
  },
  {
    // The package's bin (which imports the supervisor from the library's build), the container's
    // health check, and what the supervisor preloads into its model worker.
    entry: { cli: 'src/supervisor/bin.ts', healthcheck: 'src/healthcheck.ts', 'worker-preload': 'src/supervisor/worker-preload.ts' },
    format: ['esm'],
    outDir: 'dist',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    define,
    clean: false,
  },
  {
    // The example shims, compiled as a model author would, importing the package by its name.
    // models/edge-detector.ts and models/embedding-model.ts write the ONNX examples' model files when the build runs them.
    entry: ['shims/*.ts', 'shims/models/edge-detector.ts', 'shims/models/embedding-model.ts'],
    format: ['esm'],
    outDir: 'dist/shims',
    target: 'node20',
    external: ['ai-integration', 'onnxruntime-node'],
    clean: false,
  },
]);
