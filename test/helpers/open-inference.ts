import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { fixture } from './run-process.js';

/** The component schemas of the official Open Inference Protocol REST document. */
export type OpenInferenceSchema =
  | 'metadata_server_response'
  | 'metadata_server_error_response'
  | 'metadata_model_response'
  | 'metadata_tensor'
  | 'metadata_model_error_response'
  | 'inference_request'
  | 'inference_response'
  | 'inference_error_response'
  | 'request_input'
  | 'request_output'
  | 'response_output'
  | 'tensor_data'
  | 'parameters';

const official = 'open_inference_rest.yaml';
const withBinary = 'open_inference_rest.binary_tensor_data.yaml';

const document = parse(readFileSync(fixture('open-inference/open_inference_rest.yaml'), 'utf8')) as {
  components: { schemas: Record<string, { required?: string[] } & Record<string, unknown>> };
};

// The binary tensor data extension amends one rule of the official document: an output sent as
// binary data has `parameters.binary_data_size` in place of `data`.
const amended = structuredClone(document);
const responseOutput = amended.components.schemas.response_output!;
responseOutput.required = responseOutput.required!.filter((name) => name !== 'data');
responseOutput.anyOf = [
  { required: ['data'] },
  {
    required: ['parameters'],
    not: { required: ['data'] },
    properties: { parameters: { required: ['binary_data_size'], properties: { binary_data_size: { type: 'integer', minimum: 0 } } } },
  },
];

// The official document is OpenAPI 3.0 with its own keywords (x-examples) beside the schemas.
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema(document, official);
ajv.addSchema(amended, withBinary);

const compiled = new Map<string, ValidateFunction>();
function validatorFor(name: OpenInferenceSchema, binaryExtension: boolean): ValidateFunction {
  const key = `${binaryExtension ? withBinary : official}#/components/schemas/${name}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.getSchema(key);
    if (!validate) throw new Error(`no schema ${name} in ${official}`);
    compiled.set(key, validate);
  }
  return validate;
}

/** Why `body` is not a valid `schemaName` of the official document, or undefined when it is. */
export function schemaProblems(schemaName: OpenInferenceSchema, body: unknown, options: { binaryExtension?: boolean } = {}): string | undefined {
  const validate = validatorFor(schemaName, options.binaryExtension ?? false);
  return validate(body) ? undefined : ajv.errorsText(validate.errors, { dataVar: schemaName });
}

/**
 * Throws unless `body` validates against the named component schema of the official Open
 * Inference Protocol document (`binaryExtension`: as the binary tensor data extension amends it,
 * for the JSON header of a binary response).
 * @example expectValid('inference_response', await response.body.json())
 */
export function expectValid(schemaName: OpenInferenceSchema, body: unknown, options: { binaryExtension?: boolean } = {}): void {
  const problems = schemaProblems(schemaName, body, options);
  if (problems !== undefined) throw new Error(`not a valid ${schemaName}: ${problems}\n${JSON.stringify(body).slice(0, 2000)}`);
}
