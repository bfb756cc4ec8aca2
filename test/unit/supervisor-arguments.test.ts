// Which shim the supervisor runs: `docker run IMAGE ARGS` replaces the image's CMD, so arguments
// that do not start with a script belong to the shim the image names (AI_INTEGRATION_SHIM).
import { describe, expect, test } from 'vitest';
import { splitArguments } from '../../src/supervisor/arguments.js';

describe('splitArguments', () => {
  test('a first argument that is a script is the shim, the rest its arguments', () => {
    expect(splitArguments(['other.js', '--image', 'a.jpg'], 'shim.js')).toEqual({ shim: 'other.js', args: ['--image', 'a.jpg'] });
    expect(splitArguments(['model.mjs'], undefined)).toEqual({ shim: 'model.mjs', args: [] });
    expect(splitArguments(['dist/model.cts'], 'shim.js')).toEqual({ shim: 'dist/model.cts', args: [] });
  });

  test('options, `serve` or nothing at all go to the default shim, every argument passed through', () => {
    expect(splitArguments(['--image', 'photo.jpg'], 'shim.js')).toEqual({ shim: 'shim.js', args: ['--image', 'photo.jpg'] });
    expect(splitArguments(['serve'], 'shim.js')).toEqual({ shim: 'shim.js', args: ['serve'] });
    expect(splitArguments([], 'shim.js')).toEqual({ shim: 'shim.js', args: [] });
  });

  test('without a default shim, the first argument stays the shim (the supervisor then says it does not exist)', () => {
    expect(splitArguments(['--image', 'photo.jpg'], undefined)).toEqual({ shim: '--image', args: ['photo.jpg'] });
    expect(splitArguments([], undefined)).toEqual({ shim: undefined, args: [] });
  });

  test("--help is the model's in a container (a default shim), the supervisor's without one", () => {
    expect(splitArguments(['--help'], 'shim.js')).toEqual({ shim: 'shim.js', args: ['--help'] });
    expect(splitArguments(['--help'], undefined)).toEqual({ shim: '--help', args: [] });
  });
});
