import { createReadStream } from 'node:fs';
import { convertInputs } from '../../src/inputs/convert-inputs.js';
import { AiIntegrationError } from '../../src/errors.js';
import { inferAndWrite } from '../../src/result/infer-and-report.js';
import { readAllBytes } from '../../src/inputs/read-input.js';
import { setOwn } from '../../src/inputs/safe-record.js';
import { isBinaryType, mustBeGiven } from '../../src/inputs/schema.js';
import type { InputsSchema, ModeContext } from '../../src/types.js';

/** MODE=test_single_image: the bytes on stdin are the image input. */
export async function run(context: ModeContext): Promise<number> {
  const name = imageInputName(context.schema);
  const bytes = await readAllBytes(context.stdin, context.settings.maxInputBytes, 'stdin');
  if (bytes.length === 0) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'stdin is empty; pipe an image in, e.g. docker run -i -e MODE=test_single_image IMAGE < photo.jpg');
  }
  const given = await readArguments(context.argv, context.schema, name, context.settings.maxInputBytes);
  const inputs = await convertInputs(context.schema, otherInputs(context.schema, name, bytes, given), {
    origin: 'data',
    maxDepth: context.settings.maxInputDepth,
  });
  return inferAndWrite(context, inputs);
}

// The image comes from stdin; every other input takes its `--NAME VALUE`, else its `example`, else
// its default (from the conversion). One the caller must give that has none of these: say which,
// and how to give it.
function otherInputs(schema: InputsSchema, imageName: string, bytes: Buffer, given: Map<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  setOwn(raw, imageName, bytes);
  for (const [name, spec] of Object.entries(schema)) {
    if (name === imageName) continue;
    if (given.has(name)) setOwn(raw, name, given.get(name));
    else if (spec.example !== undefined) setOwn(raw, name, spec.example);
    else if (mustBeGiven(spec)) {
      const value = spec.type === 'boolean' ? `--${name}` : `--${name} ${isBinaryType(spec.type) ? 'PATH' : 'VALUE'}`;
      throw new AiIntegrationError(
        'AI_ERR_USAGE',
        `the input ${JSON.stringify(name)} is required, and test_single_image takes only the image from stdin; ` +
          `give it on the command line (docker run --rm -i -e MODE=test_single_image IMAGE ${value} < photo.jpg), ` +
          `or an example in the schema (${name}: { type: '${spec.type}', example: ... })`,
        { field: name },
      );
    }
  }
  return raw;
}

/**
 * `--NAME VALUE` (or `--NAME=VALUE`) for the inputs besides the image, as the command line takes
 * them: a value is the text it holds (converted as a form field's is), a boolean `--NAME` or
 * `--no-NAME`, a binary input a file's path.
 */
async function readArguments(argv: readonly string[], schema: InputsSchema, imageName: string, maxBytes: number): Promise<Map<string, unknown>> {
  const given = new Map<string, unknown>();
  const names = Object.keys(schema).filter((name) => name !== imageName);
  const usage = names.length === 0 ? 'it takes no options' : `it takes ${names.map((name) => `--${name}`).join(', ')}`;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    const [flag, inline] =
      argument.startsWith('--') && argument.includes('=')
        ? [argument.slice(0, argument.indexOf('=')), argument.slice(argument.indexOf('=') + 1)]
        : [argument, undefined];
    const negated = flag.startsWith('--no-') && schema[flag.slice(5)]?.type === 'boolean' ? flag.slice(5) : undefined;
    const name = negated ?? (flag.startsWith('--') ? flag.slice(2) : undefined);
    const spec = name === undefined || name === imageName || !Object.hasOwn(schema, name) ? undefined : schema[name];
    if (name === undefined || spec === undefined) {
      const what = name === imageName ? `the image ${JSON.stringify(imageName)} comes from stdin` : `unknown argument ${JSON.stringify(argument)}`;
      throw new AiIntegrationError('AI_ERR_USAGE', `test_single_image: ${what}; ${usage}, and reads the image from stdin`);
    }
    if (negated !== undefined || (spec.type === 'boolean' && inline === undefined)) {
      given.set(name, negated === undefined);
      continue;
    }
    const value = inline ?? argv[++index];
    if (value === undefined) throw new AiIntegrationError('AI_ERR_USAGE', `test_single_image: ${flag} needs a value`);
    // The form's rules: bytes are read as the text they hold; a binary input reads the file named.
    given.set(name, isBinaryType(spec.type) ? await readBinaryArgument(flag, value, maxBytes) : Buffer.from(value, 'utf8'));
  }
  return given;
}

// Streamed within MAX_INPUT_BYTES, as stdin is: a path may name a device or a pipe.
async function readBinaryArgument(flag: string, path: string, maxBytes: number): Promise<Buffer> {
  try {
    return await readAllBytes(createReadStream(path), maxBytes, `${flag}: ${JSON.stringify(path)}`);
  } catch (error) {
    if (error instanceof AiIntegrationError) throw error;
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new AiIntegrationError('AI_ERR_USAGE', `test_single_image: ${flag}: cannot read ${JSON.stringify(path)}: ${reason}`);
  }
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
