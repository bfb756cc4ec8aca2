export { startLoop } from './start-loop.js';
export { Cancellation } from './engine/cancellation.js';
export { inferenceRequests, type InferenceRequest } from './inference-requests.js';
export { defineSchema, validateSchema, inputTypes } from './inputs/schema.js';
export { convertInputs, type ConvertOptions, type ValueOrigin } from './inputs/convert-inputs.js';
export { checkResult, type ResultReport } from './result/check-result.js';
export {
  json,
  image,
  file,
  text,
  failure,
  type JsonResult,
  type ImageResult,
  type FileResult,
  type TextResult,
  type FailureResult,
} from './result/result-helpers.js';
export { registerMode, listModes } from './registry.js';
export { probeOnPort } from './probe-on-port.js';
export { readPickle, PickleError, type ReadPickleOptions } from './pickle-reader.js';
export { environmentVariables } from './environment-variables.js';
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
  FileOutputDescription,
  ImageInputSpec,
  ImageOutputDescription,
  BatchInferenceContext,
  BatchInferenceFunction,
  BatchOptions,
  InferOptions,
  InferenceContext,
  InferenceFunction,
  InferenceResult,
  InferenceStream,
  InputSpec,
  InputType,
  InputValue,
  Inputs,
  InputsSchema,
  IntegerInputSpec,
  JsonInputSpec,
  JsonOutputDescription,
  JsonValue,
  LazyMode,
  Logger,
  Mode,
  ModeContext,
  ModeModule,
  ModeTraits,
  NumberInputSpec,
  OutputDescription,
  ProbeTarget,
  RuntimeSettings,
  StartLoopOptions,
  TextInputSpec,
  TextOutputDescription,
  WhileModelLoads,
} from './types.js';
