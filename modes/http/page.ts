import type { ModelInfo } from '../../src/http/protocol.js';
import { isBinaryType } from '../../src/inputs/schema.js';
import { outputMediaType } from '../../src/result/output-description.js';
import type { InputsSchema, OutputDescription, OutputFieldDescription } from '../../src/types.js';
import type { InputType, PageData } from './page/browser/page-data.js';
import { escapeHtml, exampleOf, field, inlineJson } from './page/markup.js';
import { style } from './page/style.js';

declare const __AI_INTEGRATION_PAGE_SCRIPT__: string | undefined;

// The page's browser code (page/browser/, checked with DOM types), bundled by the build into one
// classic script and written in here by tsup's `define` (tsup.config.ts). Run from source, as unit
// tests do, the page has no script; the browser tests run the build.
const script = typeof __AI_INTEGRATION_PAGE_SCRIPT__ === 'string' ? __AI_INTEGRATION_PAGE_SCRIPT__ : '';

/**
 * The web page: the model's name, version and description, a form built from the schema (drop,
 * paste or pick files; examples filled in one click) that posts to /predict, and the result
 * rendered by kind. Everything is inline, so it works in a container with no network.
 */
export function renderPage(schema: InputsSchema, model: ModelInfo, output?: OutputDescription): string {
  const multipart = Object.values(schema).some((spec) => isBinaryType(spec.type));
  const examples: Record<string, unknown> = {};
  const types: Record<string, InputType> = {};
  for (const [name, spec] of Object.entries(schema)) {
    types[name] = spec.type;
    const example = exampleOf(spec);
    if (example !== undefined) examples[name] = example;
  }
  const exampleCount = Object.keys(examples).length;
  const version = /^\d/.test(model.version) ? `v${model.version}` : model.version;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>${escapeHtml(model.name)}</title>
<style>${style}</style>
</head>
<body>
<header class="model">
<div class="model-title"><h1>${escapeHtml(model.name)}</h1> <span class="version" title="model version">${escapeHtml(version)}</span></div>
${model.description ? `<p class="description">${escapeHtml(model.description)}</p>` : ''}
<nav class="links" aria-label="API"><a href="docs">API docs</a> <a href="openapi.json">OpenAPI</a> <a href="info">Model info</a></nav>
</header>
<main class="layout">
<form id="form" class="panel" method="post" action="predict" novalidate${multipart ? ' enctype="multipart/form-data"' : ''} aria-labelledby="inputs-title">
<div class="panel-head"><h2 id="inputs-title">Inputs</h2>${exampleCount > 1 ? '<button type="button" class="secondary" id="use-all-examples">Use all examples</button>' : ''}</div>
${Object.entries(schema)
  .map(([name, spec]) => field(name, spec))
  .join('\n')}
<div class="actions"><button type="submit" id="run">Run</button> <span class="shortcut">or Ctrl+Enter</span></div>
</form>
<section class="panel output" aria-labelledby="output-title">
<h2 id="output-title">Result</h2>
<p class="output-kind" id="output-kind"${output ? '' : ' hidden'}>${output ? escapeHtml(describeOutput(output)) : ''}</p>
<div id="status" class="status" role="status" aria-live="polite"></div>
<div id="result" aria-live="polite"><p class="placeholder">The result appears here.</p></div>
</section>
</main>
<script type="application/json" id="page-data">${inlineJson({ model: model.name, examples, types, ...outputData(output) } satisfies PageData)}</script>
<script>${script}</script>
</body>
</html>
`;
}

/** What the model returns, in a sentence for the result panel (the `output` option of startLoop). */
export function describeOutput(output: OutputDescription): string {
  if (output.type === 'fields') {
    const fields = Object.entries(output.fields).map(([name, field]) => `${name} (${fieldKind(field)})`);
    return `Returns the fields ${fields.join(', ')}${output.description ? `: ${output.description}` : ''}`;
  }
  const kind = { json: 'JSON', image: 'an image', file: 'a file', text: 'text' }[output.type];
  const mediaType = output.type === 'json' ? '' : ` (${outputMediaType(output)})`;
  const properties =
    output.type === 'json' && output.schema && typeof output.schema.properties === 'object' && output.schema.properties !== null
      ? Object.keys(output.schema.properties)
      : [];
  const fields = properties.length > 0 ? ` with ${properties.join(', ')}` : '';
  return `Returns ${kind}${mediaType}${fields}${output.description ? `: ${output.description}` : ''}`;
}

function fieldKind(field: OutputFieldDescription): string {
  if (field.type === 'json') return 'JSON';
  const what = field.type === 'image' ? (field.list ? 'images' : 'an image') : field.list ? 'files' : 'a file';
  return field.mediaType ? `${what}, ${field.mediaType}` : what;
}

// What the page's script needs to know of the described output: its kind, a structured output's fields.
function outputData(output: OutputDescription | undefined): Pick<PageData, 'outputKind' | 'fields'> {
  if (!output) return {};
  if (output.type !== 'fields') return { outputKind: output.type };
  return { outputKind: 'fields', fields: Object.fromEntries(Object.entries(output.fields).map(([name, field]) => [name, field.type])) };
}
