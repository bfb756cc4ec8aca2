import { convertInputs } from '../../src/inputs/convert-inputs.js';
import { AiIntegrationError } from '../../src/errors.js';
import { inferAndWrite } from '../../src/result/infer-and-report.js';
import { mayBePickle, PickleError, readPickle } from '../../src/pickle-reader.js';
import { plural } from '../../src/plural.js';
import { readAllBytes } from '../../src/inputs/read-input.js';
import { describeType } from '../../src/inputs/schema.js';
import { describeContent } from '../../src/inputs/stdin-content.js';
import type { ModeContext } from '../../src/types.js';

const example = `python3 -c 'import pickle, sys; pickle.dump({"image": open("photo.jpg", "rb").read()}, sys.stdout.buffer)' | docker run -i -e MODE=test_inputs_pickled_dict IMAGE`;

// Where what was piped in is read instead, with the command that does it.
const otherModes: Partial<Record<ReturnType<typeof describeContent>['kind'], string>> = {
  json: `MODE=test_inputs_dict_json reads a JSON object of inputs: echo '{"image": "<base64>"}' | docker run --rm -i -e MODE=test_inputs_dict_json IMAGE`,
  image: 'MODE=test_single_image reads one image: docker run --rm -i -e MODE=test_single_image IMAGE < photo.jpg',
};

/** MODE=test_inputs_pickled_dict: a pickled dict of inputs on stdin, read by the safe pickle reader. */
export async function run(context: ModeContext): Promise<number> {
  const bytes = await readAllBytes(context.stdin, context.settings.maxInputBytes, 'stdin');
  if (bytes.length === 0) throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `stdin is empty; pipe a pickled dict of inputs in, e.g. ${example}`);
  if (!mayBePickle(bytes)) throw notAPickle(bytes);
  const { maxInputDepth } = context.settings;
  const value = readInputsPickle(bytes, maxInputDepth);
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Set || value instanceof Uint8Array) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the pickle holds ${describeType(value)}; expected a dict of inputs`);
  }
  const inputs = await convertInputs(context.schema, value as Record<string, unknown>, {
    origin: 'data',
    strict: context.settings.strictInputs,
    maxDepth: maxInputDepth,
    urlInputs: context.settings.urlInputs,
  });
  return inferAndWrite(context, inputs);
}

function notAPickle(bytes: Buffer): AiIntegrationError {
  const { kind, description } = describeContent(bytes);
  const next = otherModes[kind] ?? `pipe a pickled dict of inputs in, e.g. ${example}`;
  return new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `stdin is not a pickle: it looks like ${description}; ${next}`);
}

// A protocol 0 pickle is text: how one that is damaged still shows what it is (`(dp0` starts a
// dict, `(lp0` a list, `ccollections` an OrderedDict).
const protocol0Start = /^(\([dlt](p\d+)?\n|c[\w.]+\n[\w.]+\n)/;

// The dict of inputs is a level of its own in the pickle, so the reader is given one level more:
// a value allowed in JSON is allowed here. Its refusal then says the limit as the operator set it.
function readInputsPickle(bytes: Buffer, maxInputDepth: number): unknown {
  try {
    return readPickle(bytes, { maxDepth: maxInputDepth + 1 });
  } catch (error) {
    if (error instanceof PickleError && error.message.includes('nests deeper than')) {
      throw new AiIntegrationError(
        'AI_ERR_PICKLE_MALFORMED',
        `${error.message}: a value in the dict of inputs may nest at most ${plural(maxInputDepth, 'level')} of lists, tuples, dicts and sets (MAX_INPUT_DEPTH), the dict itself being one more`,
      );
    }
    // Data that only starts like a protocol 0 or 1 pickle (text such as "Some words", a GIF,
    // JSON) is named for what it is; a real pickle that is damaged keeps the reader's error.
    if (error instanceof PickleError && bytes[0] !== 0x80 && !protocol0Start.test(bytes.subarray(0, 200).toString('latin1'))) {
      const { kind } = describeContent(bytes);
      if (kind === 'json' || kind === 'image' || kind === 'text') throw notAPickle(bytes);
    }
    throw error;
  }
}
