// The example chat model's generator (shims/models/markov-chat.ts) on its own text: what it says is
// made of the text's own word triples, the same for the same seed, and it ends at a sentence's end.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { learnMarkovChain, markovWords } from '../../shims/models/markov-chat.js';

const text = readFileSync(new URL('../../shims/models/fables.txt', import.meta.url), 'utf8');
const fables = learnMarkovChain(text);
const words = (seed: number, prompt = '', temperature?: number) => [...markovWords(fables, { seed, prompt, temperature })].map((word) => word.trim());

test('every three words in a row of an answer follow each other in the text; the answer ends a sentence after 30 words', () => {
  const triples = new Set(text.split(/\s+/).map((_, index, all) => all.slice(index, index + 3).join(' ')));
  for (const seed of [0, 1, 2, 3, 42]) {
    const answer = words(seed, 'the mouse and the lion');
    expect(answer.length).toBeGreaterThanOrEqual(30);
    expect(answer.at(-1)).toMatch(/[.!?]["']?$/);
    for (let index = 0; index + 2 < answer.length; index++) expect(triples).toContain(answer.slice(index, index + 3).join(' '));
  }
});

test('the same seed and prompt give the same words, another seed others; the answer starts at a sentence about the prompt', () => {
  expect(words(5, 'grapes')).toEqual(words(5, 'grapes'));
  expect(words(5, 'grapes')).not.toEqual(words(6, 'grapes'));
  const firstSentence = words(3, 'Where are the grapes?')
    .join(' ')
    .split(/(?<=[.!?]["']?) /)[0]!;
  expect(firstSentence.toLowerCase()).toContain('grapes');
});

test('temperature 0 takes the most frequent next word, so the seed picks only where it starts', () => {
  const start = learnMarkovChain('a b c. a b c. a b d. x y z.');
  expect([...markovWords(start, { seed: 1, temperature: 0, prompt: 'zzzz', minWords: 3 })].join('')).toMatch(/^(a b c\.|x y z\.)$/);
});
