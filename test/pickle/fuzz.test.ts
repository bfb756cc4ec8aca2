// Mutation fuzzing: random byte flips, truncations, insertions and duplications of real pickles.
// Each mutant must either decode or throw the library's PickleError, never anything else. The
// generator is seeded, so every run tries the same mutants.
import { beforeAll, describe, expect, test } from 'vitest';
import { PickleError, readPickle } from '../../src/pickle-reader.js';
import { makeCorpus } from './corpus.js';

let seeds: Buffer[];
beforeAll(async () => {
  const { cases } = await makeCorpus();
  seeds = cases.filter((entry) => entry.name !== 'batches').flatMap((entry) => entry.pickles);
});

function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

// Bytes that steer the reader somewhere interesting: opcodes, lengths, newlines, high bits.
const interesting = [0x00, 0x01, 0x0a, 0x28, 0x2e, 0x7f, 0x80, 0x93, 0x94, 0x95, 0xff, ...Buffer.from('()tlde]}asuRcgphqjrJKLMXTUBC')];

function mutate(seed: Buffer, random: () => number): Buffer {
  const pick = (limit: number) => Math.floor(random() * limit);
  let data = Buffer.from(seed);
  const rounds = 1 + pick(4);
  for (let round = 0; round < rounds; round++) {
    const at = pick(data.length + 1);
    switch (pick(5)) {
      case 0:
        if (data.length > 0) data[Math.min(at, data.length - 1)] = pick(256);
        break;
      case 1:
        data = data.subarray(0, at);
        break;
      case 2:
        data = Buffer.concat([data.subarray(0, at), Buffer.from([interesting[pick(interesting.length)]!]), data.subarray(at)]);
        break;
      case 3: {
        const length = pick(16);
        data = Buffer.concat([data.subarray(0, at), data.subarray(at, at + length), data.subarray(at)]);
        break;
      }
      default:
        if (data.length > 0) data[Math.min(at, data.length - 1)]! ^= 1 << pick(8);
    }
  }
  return data;
}

describe('readPickle under mutation fuzzing', () => {
  test('6000 mutants of real pickles each decode or throw PickleError', () => {
    const random = xorshift(20261121);
    let decoded = 0;
    let refused = 0;
    for (let index = 0; index < 6000; index++) {
      const mutant = mutate(seeds[index % seeds.length]!, random);
      try {
        readPickle(mutant);
        decoded++;
      } catch (error) {
        if (!(error instanceof PickleError)) {
          throw new Error(`mutant ${index} (${mutant.toString('hex')}) threw ${String(error)}`);
        }
        expect(error.message).toMatch(/\(at byte \d+\)$/);
        refused++;
      }
    }
    // Both outcomes happen: the mutants are neither all trivially broken nor all harmless.
    expect(refused).toBeGreaterThan(1000);
    expect(decoded).toBeGreaterThan(100);
  });
});
