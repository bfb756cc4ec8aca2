import type { LazyMode } from '../../src/types.js';

/** MODE=test_inputs_pickled_dict: a pickled dict of inputs from stdin. */
export const mode: LazyMode = {
  name: 'test_inputs_pickled_dict',
  hint: 'pipe a pickled dict of inputs into stdin: cat dict.pkl | docker run --rm -i -e MODE=test_inputs_pickled_dict IMAGE',
  load: () => import('./index.js'),
};
