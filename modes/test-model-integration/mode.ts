import type { LazyMode } from '../../src/types.js';

/** MODE=test_model_integration: the self-test. */
export const mode: LazyMode = {
  name: 'test_model_integration',
  hint: 'self-test on a built-in gray image: docker run --rm -e MODE=test_model_integration IMAGE',
  load: () => import('./index.js'),
};
