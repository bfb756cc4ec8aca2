import { describe, expect, test } from 'vitest';
import { modelMetadata, serverMetadata } from '../../modes/kserve/metadata.js';
import { defineSchema } from '../../src/inputs/schema.js';
import { expectValid } from '../helpers/open-inference.js';

const schema = defineSchema({
  image: { type: 'image', description: 'a photo' },
  doc: { type: 'file', required: false },
  note: { type: 'text', default: 'hi' },
  meta: { type: 'json', default: { a: [1] } },
  mode: { type: 'choice', choices: ['fast', 'best, slow'], default: 'fast' },
  steps: { type: 'integer', min: 1, max: 50, default: 20 },
  strength: { type: 'number', min: 0, max: 1 },
  flag: { type: 'boolean', default: false },
});

describe('metadata', () => {
  test('server metadata names the binary tensor data extension', () => {
    const metadata = serverMetadata('1.2.3');
    expect(metadata).toEqual({ name: 'ai-integration', version: '1.2.3', extensions: ['binary_tensor_data'] });
    expectValid('metadata_server_response', metadata);
  });

  test('model metadata: one [-1] tensor per input, typed by the input, and one BYTES output', () => {
    const metadata = modelMetadata({ name: 'edge-detector', version: '7' }, schema);
    expectValid('metadata_model_response', metadata);
    expect(metadata.name).toBe('edge-detector');
    expect(metadata.versions).toEqual(['7']);
    expect(metadata.platform).toBe('ai-integration');
    expect(metadata.inputs.map(({ name, datatype, shape }) => [name, datatype, shape])).toEqual([
      ['image', 'BYTES', [-1]],
      ['doc', 'BYTES', [-1]],
      ['note', 'BYTES', [-1]],
      ['meta', 'BYTES', [-1]],
      ['mode', 'BYTES', [-1]],
      ['steps', 'INT64', [-1]],
      ['strength', 'FP64', [-1]],
      ['flag', 'BOOL', [-1]],
    ]);
    expect(metadata.outputs).toEqual([{ name: 'output', datatype: 'BYTES', shape: [-1] }]);
    for (const tensor of [...metadata.inputs, ...metadata.outputs]) expectValid('metadata_tensor', tensor);
  });

  test('each input tensor says its input type, whether it may be left out, and its bounds, choices and default, as scalars', () => {
    const byName = Object.fromEntries(modelMetadata({ name: 'm', version: '1' }, schema).inputs.map((tensor) => [tensor.name, tensor.parameters]));
    expect(byName.image).toEqual({ input_type: 'image', content_type: 'image/*', description: 'a photo', optional: false });
    expect(byName.doc).toEqual({ input_type: 'file', content_type: 'application/octet-stream', optional: true });
    expect(byName.meta).toEqual({ input_type: 'json', content_type: 'application/json', optional: true, default: '{"a":[1]}' });
    expect(byName.mode).toEqual({ input_type: 'choice', optional: true, default: 'fast', choices: '["fast","best, slow"]' });
    expect(byName.steps).toEqual({ input_type: 'integer', optional: true, default: 20, min: 1, max: 50 });
    expect(byName.strength).toEqual({ input_type: 'number', optional: false, min: 0, max: 1 });
    for (const parameters of Object.values(byName)) {
      for (const value of Object.values(parameters ?? {})) expect(['string', 'number', 'boolean']).toContain(typeof value);
    }
  });

  test('an output content type, when known, is a parameter of the output tensor', () => {
    const metadata = modelMetadata({ name: 'm', version: '1' }, {}, { contentType: 'image/jpeg' });
    expect(metadata.outputs).toEqual([{ name: 'output', datatype: 'BYTES', shape: [-1], parameters: { content_type: 'image/jpeg' } }]);
    expect(metadata.inputs).toEqual([]);
    expectValid('metadata_model_response', metadata);
  });
});
