import { convertInputs } from '../src/convert-inputs.js';
import { AiIntegrationError } from '../src/errors.js';
import { inferAndWrite } from '../src/infer-and-report.js';
import { PickleError, readPickle } from '../src/pickle-reader.js';
import { readAllBytes } from '../src/read-input.js';
import { describeType } from '../src/schema.js';
import type { ModeContext } from '../src/types.js';

const example = `python3 -c 'import pickle, sys; pickle.dump({"image": open("photo.jpg", "rb").read()}, sys.stdout.buffer)' | docker run -i -e MODE=test_inputs_pickled_dict IMAGE`;

/** MODE=test_inputs_pickled_dict: a pickled dict of inputs on stdin, read by the safe pickle reader. */
export async function run(context: ModeContext): Promise<number> {
  const bytes = await readAllBytes(context.stdin, context.settings.maxInputBytes, 'stdin');
  if (bytes.length === 0) throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `stdin is empty; pipe a pickled dict of inputs in, e.g. ${example}`);
  const { maxInputDepth } = context.settings;
  const value = readInputsPickle(bytes, maxInputDepth);
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Set || value instanceof Uint8Array) {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `the pickle holds ${describeType(value)}; expected a dict of inputs`);
  }
  const inputs = await convertInputs(context.schema, value as Record<string, unknown>, { origin: 'data', strict: context.settings.strictInputs, maxDepth: maxInputDepth });
  return inferAndWrite(context, inputs);
}

// The dict of inputs is a level of its own in the pickle, so the reader is given one level more:
// a value allowed in JSON is allowed here. Its refusal then says the limit as the operator set it.
function readInputsPickle(bytes: Buffer, maxInputDepth: number): unknown {
  try {
    return readPickle(bytes, { maxDepth: maxInputDepth + 1 });
  } catch (error) {
    if (error instanceof PickleError && error.message.includes('nests deeper than')) {
      throw new AiIntegrationError(
        'AI_ERR_PICKLE_MALFORMED',
        `${error.message}: a value in the dict of inputs may nest at most ${maxInputDepth} levels of lists, tuples, dicts and sets (MAX_INPUT_DEPTH), the dict itself being one more`,
      );
    }
    throw error;
  }
}
