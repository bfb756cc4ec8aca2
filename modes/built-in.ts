/**
 * The modes that ship with the package, in the order the list of modes shows them. Each folder's
 * `mode.ts` describes its mode and loads its code only when selected; the registry registers these
 * through registerMode, as a user's own modes are, and names none of them.
 */
import { mode as commandLine } from './command-line/mode.js';
import { mode as http } from './http/mode.js';
import { mode as kserve } from './kserve/mode.js';
import { mode as cog } from './cog/mode.js';
import { mode as sagemaker } from './sagemaker/mode.js';
import { mode as vertex } from './vertex/mode.js';
import { mode as openai } from './openai/mode.js';
import { mode as lambda } from './lambda/mode.js';
import { mode as queue } from './queue/mode.js';
import { mode as testModelIntegration } from './test-model-integration/mode.js';
import { mode as testSingleImage } from './test-single-image/mode.js';
import { mode as testInputsDictJson } from './test-inputs-dict-json/mode.js';
import { mode as testInputsPickledDict } from './test-inputs-pickled-dict/mode.js';
import type { LazyMode } from '../src/types.js';

export const builtInModes: readonly LazyMode[] = [
  commandLine,
  http,
  kserve,
  cog,
  sagemaker,
  vertex,
  openai,
  lambda,
  queue,
  testModelIntegration,
  testSingleImage,
  testInputsDictJson,
  testInputsPickledDict,
];
