// The page passes its script data only through the JSON block (modes/http/page/browser/page-data.ts),
// never by writing into code; what a model author or a schema says must not end that block early.
import { describe, expect, test } from 'vitest';
import { renderPage } from '../../modes/http/page.js';
import type { PageData } from '../../modes/http/page/browser/page-data.js';

const hostile = '</script><script>alert(1)</script><!--';
const model = { name: `m ${hostile}`, version: '1.0.0', description: '' };
const schema = {
  [`note ${hostile}`]: { type: 'text' as const, example: `an example ${hostile}` },
  image: { type: 'image' as const, example: 'data:image/png;base64,iVBORw0KGgo=' },
  strength: { type: 'number' as const },
};

function dataBlock(page: string): string {
  const match = /<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/.exec(page);
  expect(match).not.toBeNull();
  return match![1]!;
}

describe("the page's data block", () => {
  test('a model name, an input name and an example that say </script> or <!-- stay inside the block', () => {
    const block = dataBlock(renderPage(schema, model));
    expect(block).not.toMatch(/<\/script|<!--|</i);
    expect(JSON.parse(block)).toEqual({
      model: model.name,
      examples: { [`note ${hostile}`]: `an example ${hostile}`, image: 'data:image/png;base64,iVBORw0KGgo=' },
      types: { [`note ${hostile}`]: 'text', image: 'image', strength: 'number' },
    } satisfies PageData);
  });
});
