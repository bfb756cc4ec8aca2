export { startLoop } from './start-loop.js';
export { inferenceRequests, type InferenceRequest } from './inference-requests.js';
export { defineSchema, validateSchema, inputTypes } from './schema.js';
export { convertInputs, type ConvertOptions, type ValueOrigin } from './convert-inputs.js';
export { checkResult, type ResultReport } from './check-result.js';
export { registerMode, listModes } from './registry.js';
export { readPickle, PickleError, type ReadPickleOptions } from './pickle-reader.js';
export { environmentVariables } from './settings.js';
export {
  AiIntegrationError,
  InvalidInputError,
  InvalidSchemaError,
  InferenceThrewError,
  ExitCode,
  errorTable,
  type ErrorCode,
  type ExitCodeValue,
} from './errors.js';
export type {
  BooleanInputSpec,
  ChoiceInputSpec,
  Engine,
  FileInputSpec,
  ImageInputSpec,
  InferenceFunction,
  InferenceResult,
  InputSpec,
  InputType,
  InputValue,
  Inputs,
  InputsSchema,
  IntegerInputSpec,
  JsonInputSpec,
  JsonValue,
  Logger,
  Mode,
  ModeContext,
  NumberInputSpec,
  RuntimeSettings,
  StartLoopOptions,
  TextInputSpec,
} from './types.js';
