import { convertInputs } from '../../src/inputs/convert-inputs.js';
import { AiIntegrationError } from '../../src/errors.js';
import { inferAndWrite } from '../../src/result/infer-and-report.js';
import { readAllBytes } from '../../src/inputs/read-input.js';
import { setOwn } from '../../src/inputs/safe-record.js';
import { mustBeGiven } from '../../src/inputs/schema.js';
import type { InputsSchema, ModeContext } from '../../src/types.js';

/** MODE=test_single_image: the bytes on stdin are the image input. */
export async function run(context: ModeContext): Promise<number> {
  const name = imageInputName(context.schema);
  const bytes = await readAllBytes(context.stdin, context.settings.maxInputBytes, 'stdin');
  if (bytes.length === 0) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'stdin is empty; pipe an image in, e.g. docker run -i -e MODE=test_single_image IMAGE < photo.jpg');
  }
  const inputs = await convertInputs(context.schema, otherInputs(context.schema, name, bytes), { origin: 'data', maxDepth: context.settings.maxInputDepth });
  return inferAndWrite(context, inputs);
}

// The image comes from stdin; every other input takes its `example`, else its default (from the
// conversion). One the caller must give that has neither cannot be given in this mode: say which,
// and how to give it.
function otherInputs(schema: InputsSchema, imageName: string, bytes: Buffer): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  setOwn(raw, imageName, bytes);
  for (const [name, spec] of Object.entries(schema)) {
    if (name === imageName) continue;
    if (spec.example !== undefined) setOwn(raw, name, spec.example);
    else if (mustBeGiven(spec)) {
      throw new AiIntegrationError(
        'AI_ERR_USAGE',
        `test_single_image gives the model only the image, and the input ${JSON.stringify(name)} is required with no example or default in the schema; ` +
          `give it one (${name}: { type: '${spec.type}', example: ... }), or give every input with MODE=test_inputs_dict_json: ` +
          `echo '{"${imageName}": "<base64>", "${name}": ...}' | docker run --rm -i -e MODE=test_inputs_dict_json IMAGE`,
        { field: name },
      );
    }
  }
  return raw;
}

// The Python library's convention is an input named "image"; a schema with one image input under
// another name works too, and one with several is ambiguous.
function imageInputName(schema: InputsSchema): string {
  const imageInputs = Object.keys(schema).filter((name) => schema[name]?.type === 'image');
  if (imageInputs.includes('image')) return 'image';
  if (imageInputs.length === 1) return imageInputs[0]!;
  if (imageInputs.length === 0) {
    throw new AiIntegrationError('AI_ERR_USAGE', "test_single_image needs an image input, and this model's schema has none; use MODE=test_inputs_dict_json");
  }
  throw new AiIntegrationError(
    'AI_ERR_USAGE',
    `test_single_image needs one image input, and this model has ${imageInputs.length} (${imageInputs.join(', ')}); use MODE=test_inputs_dict_json`,
  );
}
