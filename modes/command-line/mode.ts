import type { LazyMode } from '../../src/types.js';

/** MODE=command_line: one inference from the command line. */
export const mode: LazyMode = {
  name: 'command_line',
  hint: 'run once from the command line: docker run --rm -i IMAGE --image - < photo.jpg (--help lists the options)',
  load: () => import('./index.js'),
};
