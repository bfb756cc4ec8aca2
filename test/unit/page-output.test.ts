// The web page says what the model returns when startLoop's `output` describes it, and says
// nothing when it does not (the result panel then shows whatever comes).
import { describe, expect, test } from 'vitest';
import { describeOutput, renderPage } from '../../modes/http/page.js';

const model = { name: 'm', version: '1.0.0', description: '' };
const schema = { image: { type: 'image' as const } };

describe('the page and the output description', () => {
  test('each kind of output in a sentence, with its media type, fields and description', () => {
    expect(
      describeOutput({
        type: 'json',
        schema: { type: 'object', properties: { label: { type: 'string' }, score: { type: 'number' } } },
        description: 'the best label',
      }),
    ).toBe('Returns JSON with label, score: the best label');
    expect(describeOutput({ type: 'image', mediaType: 'image/png' })).toBe('Returns an image (image/png)');
    expect(describeOutput({ type: 'image' })).toBe('Returns an image (image/*)');
    expect(describeOutput({ type: 'file', mediaType: 'audio/wav', description: 'the speech' })).toBe('Returns a file (audio/wav): the speech');
    expect(describeOutput({ type: 'text' })).toBe('Returns text (text/plain)');
  });

  test('the result panel shows it, escaped; without a description the line is hidden until a result shows', () => {
    const page = renderPage(schema, model, { type: 'json', description: 'labels <and> scores' });
    expect(page).toContain('<p class="output-kind" id="output-kind">Returns JSON: labels &lt;and&gt; scores</p>');
    expect(page).toContain('"outputKind":"json"');
    expect(renderPage(schema, model)).toContain('<p class="output-kind" id="output-kind" hidden></p>');
  });

  test('a structured output: each field with its kind, and the fields in the page data', () => {
    const output = {
      type: 'fields',
      fields: { label: { type: 'json' }, mask: { type: 'image', mediaType: 'image/png' }, frames: { type: 'file', list: true } },
    } as const;
    expect(describeOutput(output)).toBe('Returns the fields label (JSON), mask (an image, image/png), frames (files)');
    expect(renderPage(schema, model, output)).toContain('"outputKind":"fields","fields":{"label":"json","mask":"image","frames":"file"}');
  });
});
