import { portSetting } from '../../src/settings-parts/env-values.js';
import type { LazyMode } from '../../src/types.js';
import { readSageMakerSettings, sagemakerVariables } from './settings.js';

/** MODE=sagemaker: Amazon SageMaker's inference container contract. */
export const mode: LazyMode = {
  name: 'sagemaker',
  hint: 'Amazon SageMaker endpoints and batch transform (/ping, /invocations on 8080; also the argument serve): docker run --rm -p 8080:8080 IMAGE serve',
  serves: 'http',
  // SAGEMAKER_BIND_TO_PORT wins over PORT: SageMaker sets it only when the container must listen there.
  probe: (env) => ({ port: readSageMakerSettings(env).bindToPort ?? portSetting(env) ?? 8080, path: '/ping' }),
  // While WEIGHTS_URL is fetched (and the model then loads), readiness says 503 "starting" with the progress.
  async whileModelLoads(env, log) {
    if (!env.WEIGHTS_URL?.trim()) return undefined;
    const { serveWhileStarting, startingStatus } = await import('../../src/http/starting-server.js');
    const { sageMakerErrorBody } = await import('./errors.js');
    const target = { port: readSageMakerSettings(env).bindToPort ?? portSetting(env) ?? 8080, path: '/ping' };
    return serveWhileStarting(target, { answer: startingStatus('/ping'), errorBody: sageMakerErrorBody }, env, log);
  },
  variables: sagemakerVariables,
  // SageMaker starts a container with the single argument `serve` and sets no MODE.
  selectedBy: ['serve'],
  load: () => import('./index.js'),
};
