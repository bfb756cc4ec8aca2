import type { LazyMode } from '../../src/types.js';

/** MODE=test_inputs_dict_json: a JSON inputs object from stdin. */
export const mode: LazyMode = {
  name: 'test_inputs_dict_json',
  hint: `pipe a JSON inputs object into stdin: echo '{"image": "<base64>"}' | docker run --rm -i -e MODE=test_inputs_dict_json IMAGE`,
  load: () => import('./index.js'),
};
