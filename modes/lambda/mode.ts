import type { LazyMode } from '../../src/types.js';
import { lambdaVariables } from './settings.js';

/** MODE=lambda: an AWS Lambda container image, driven by the Lambda runtime API (no listener of its own). */
export const mode: LazyMode = {
  name: 'lambda',
  hint: 'AWS Lambda container images (the runtime API at AWS_LAMBDA_RUNTIME_API): set MODE=lambda in the function configuration',
  serves: 'events',
  variables: lambdaVariables,
  load: () => import('./index.js'),
};
