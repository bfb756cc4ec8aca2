import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { tokenStorageKey } from './auth.js';

// Interactive API docs from the package's own copy of Swagger UI (dist/docs-ui/, copied at build
// time by scripts/docs-ui.mjs): a container is often offline, so nothing is fetched from a CDN,
// and the online validator is off, so the page calls nothing but this server.
const assets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};
const cache = new Map<string, Buffer>();

export const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>API docs</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>
// With AUTH_TOKEN set, the token prompt has stored the token for this tab: every request the docs
// make (the document, "Try it out") carries it, unless the Authorize button set one.
const withToken = (request) => {
  const token = sessionStorage.getItem(${JSON.stringify(tokenStorageKey)});
  if (token && !request.headers.Authorization) request.headers.Authorization = 'Bearer ' + token;
  return request;
};
// A form field (a multipart input) starts from its example or default only: Swagger UI would
// otherwise fill every field in, an optional text with "string" and a number with its minimum,
// and send values nobody chose.
const chosenValuesOnly = () => ({
  afterLoad(system) {
    const sample = system.fn.getSampleSchema;
    const has = (schema, key) => (typeof schema?.get === 'function' ? schema.get(key) : schema?.[key]) !== undefined;
    system.fn.getSampleSchema = (schema, contentType, config, example) =>
      contentType === false && example === undefined && !['examples', 'example', 'default'].some((key) => has(schema, key))
        ? ''
        : sample(schema, contentType, config, example);
  },
});
window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#swagger-ui',
  requestInterceptor: withToken,
  validatorUrl: null,
  plugins: [chosenValuesOnly],
});
</script>
</body>
</html>
`;

/** Whether `name` is one of the docs assets this server serves. */
export function isDocsAsset(name: string): boolean {
  return Object.hasOwn(assets, name);
}

export async function sendDocsAsset(response: ServerResponse, name: string): Promise<void> {
  let body = cache.get(name);
  if (!body) {
    body = await readFile(join(docsUiFolder(), name));
    cache.set(name, body);
  }
  response.writeHead(200, { 'content-type': assets[name]!, 'content-length': body.length, 'cache-control': 'public, max-age=86400' });
  response.end(body);
}

// Beside the built chunks in dist/; run from a source checkout (the unit tests), the
// swagger-ui-dist devDependency the build copies from. The path is computed so the bundler leaves it alone.
function docsUiFolder(): string {
  const built = fileURLToPath(new URL('./docs-ui/', import.meta.url));
  if (existsSync(built)) return built;
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}
