import type { LazyMode } from '../../src/types.js';

/** MODE=test_single_image: one image from stdin. */
export const mode: LazyMode = {
  name: 'test_single_image',
  hint: 'pipe one image into stdin: docker run --rm -i -e MODE=test_single_image IMAGE < photo.jpg',
  load: () => import('./index.js'),
};
