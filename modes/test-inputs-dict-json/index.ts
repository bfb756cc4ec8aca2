import { convertInputs } from '../../src/inputs/convert-inputs.js';
import { AiIntegrationError } from '../../src/errors.js';
import { inferAndWrite } from '../../src/result/infer-and-report.js';
import { readAllBytes } from '../../src/inputs/read-input.js';
import { describeType } from '../../src/inputs/schema.js';
import { describeContent } from '../../src/inputs/stdin-content.js';
import type { InputsSchema, ModeContext } from '../../src/types.js';

const example = '{"image": "data:image/jpeg;base64,..."}';
// Windows editors and PowerShell (Out-File, Set-Content) start UTF-8 text with a byte-order mark;
// RFC 8259 lets a parser ignore it, and JSON.parse would refuse it, so the decoder drops it.
const utf8WithoutBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

// Where what was piped in is read instead, when it is not text.
const otherModes: Partial<Record<ReturnType<typeof describeContent>['kind'], string>> = {
  image: 'MODE=test_single_image reads one image: docker run --rm -i -e MODE=test_single_image IMAGE < photo.jpg',
  pickle: 'MODE=test_inputs_pickled_dict reads a pickled dict of inputs: cat dict.pkl | docker run --rm -i -e MODE=test_inputs_pickled_dict IMAGE',
};

/** MODE=test_inputs_dict_json: one JSON object of inputs on stdin; binary inputs as base64 or data: URLs. */
export async function run(context: ModeContext): Promise<number> {
  const bytes = await readAllBytes(context.stdin, context.settings.maxInputBytes, 'stdin');
  let text: string;
  try {
    text = utf8WithoutBom.decode(bytes).trim();
  } catch {
    const { kind, description } = describeContent(bytes);
    const next = otherModes[kind] ?? `expected a JSON object of inputs, e.g. ${example}`;
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `stdin is not UTF-8 text: it looks like ${description}; ${next}`);
  }
  if (text === '') throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `stdin is empty; expected a JSON object of inputs, e.g. ${example}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `stdin is not valid JSON (${(error as Error).message}); expected an object such as ${example}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `stdin holds ${describeType(parsed)}; expected a JSON object of inputs, e.g. ${example}`);
  }
  const raw = parsed as Record<string, unknown>;
  const wrapper = wrappingKey(context.schema, raw);
  let inputs: Record<string, unknown>;
  try {
    inputs = await convertInputs(context.schema, raw, {
      origin: 'data',
      strict: context.settings.strictInputs,
      maxDepth: context.settings.maxInputDepth,
      urlInputs: context.settings.urlInputs,
    });
  } catch (error) {
    if (wrapper !== undefined && error instanceof AiIntegrationError && error.code === 'AI_ERR_INVALID_INPUT') throw wrapped(raw, wrapper);
    throw error;
  }
  // Inputs of the model inside the wrapper would never reach it (its defaults would run instead).
  if (wrapper !== undefined && Object.keys(raw[wrapper] as object).some((name) => Object.hasOwn(context.schema, name))) throw wrapped(raw, wrapper);
  return inferAndWrite(context, inputs);
}

/**
 * `inputs` (or `input`) when it is the object's only key, holds an object, and names no input of
 * the schema: the HTTP API's `{"inputs": {...}}` (or Cog's `{"input": {...}}`) piped in as it is.
 */
function wrappingKey(schema: InputsSchema, raw: Record<string, unknown>): string | undefined {
  const keys = Object.keys(raw);
  const key = keys[0];
  if (keys.length !== 1 || (key !== 'inputs' && key !== 'input') || Object.hasOwn(schema, key)) return undefined;
  const inner = raw[key];
  return inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? key : undefined;
}

function wrapped(raw: Record<string, unknown>, wrapper: string): AiIntegrationError {
  const names = Object.keys(raw[wrapper] as object);
  const shown =
    names.length === 0
      ? '...'
      : `${names
          .slice(0, 3)
          .map((name) => `${JSON.stringify(name)}: ...`)
          .join(', ')}${names.length > 3 ? ', ...' : ''}`;
  return new AiIntegrationError(
    'AI_ERR_MALFORMED_INPUT',
    `stdin wraps the inputs in {"${wrapper}": {...}}, as the HTTP API takes them; this mode reads the inputs object itself: pipe {${shown}} without the wrapper`,
  );
}
