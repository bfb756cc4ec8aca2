// Copies the two Swagger UI files that /docs serves (and their licence) from the swagger-ui-dist
// devDependency into dist/docs-ui/. The published package carries these files itself rather than
// depending on swagger-ui-dist, whose dependency @scarf/scarf is an install-time analytics script
// that would run in every user's `npm install`; served from the package, nothing is fetched from
// a CDN at run time either (containers are often offline).
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const source = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const target = new URL('../dist/docs-ui/', import.meta.url).pathname;
mkdirSync(target, { recursive: true });
for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js', 'LICENSE', 'NOTICE']) copyFileSync(join(source, file), join(target, file));
