/**
 * The package's bin, `ai-integration`. The supervisor itself is built with the library
 * (dist/supervisor.js) so that a mode module the shim registers, which imports `ai-integration`,
 * shares its code: one error class for `instanceof`, one HTTP core. The path is computed so that
 * the bundler leaves it alone.
 */
await import(new URL('./supervisor.js', import.meta.url).href);
