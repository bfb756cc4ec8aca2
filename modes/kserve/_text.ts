export { plural } from '../../src/plural.js';

/** A shape as the protocol writes it: [2, 3]. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
