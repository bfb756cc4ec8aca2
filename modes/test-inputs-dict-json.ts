import { convertInputs } from '../src/convert-inputs.js';
import { AiIntegrationError } from '../src/errors.js';
import { inferAndWrite } from '../src/infer-and-report.js';
import { readAllBytes } from '../src/read-input.js';
import { describeType } from '../src/schema.js';
import type { ModeContext } from '../src/types.js';

const example = '{"image": "data:image/jpeg;base64,..."}';
// Windows editors and PowerShell (Out-File, Set-Content) start UTF-8 text with a byte-order mark;
// RFC 8259 lets a parser ignore it, and JSON.parse would refuse it, so the decoder drops it.
const utf8WithoutBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** MODE=test_inputs_dict_json: one JSON object of inputs on stdin; binary inputs as base64 or data: URLs. */
export async function run(context: ModeContext): Promise<number> {
  const bytes = await readAllBytes(context.stdin, context.settings.maxInputBytes, 'stdin');
  let text: string;
  try {
    text = utf8WithoutBom.decode(bytes).trim();
  } catch {
    throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', 'stdin is not UTF-8 text; expected a JSON object of inputs');
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
  const inputs = await convertInputs(context.schema, parsed as Record<string, unknown>, {
    origin: 'data',
    strict: context.settings.strictInputs,
    maxDepth: context.settings.maxInputDepth,
  });
  return inferAndWrite(context, inputs);
}
