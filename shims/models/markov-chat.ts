/**
 * The example chat model's text generator: a word-level Markov chain of order 2, learnt at
 * start-up from a short public-domain text (fables.txt; fables-source.md says where it comes
 * from). Each next word is drawn from the words that followed the last two in the text, by a
 * seeded generator, so that the same request with the same `seed` gets the same answer.
 */

/** Which words followed each pair of words in the text, with repeats (so more frequent is likelier). */
export interface MarkovChain {
  readonly next: ReadonlyMap<string, readonly string[]>;
  /** The pairs that begin a sentence, where an answer starts, with the sentence's words (lower-case, letters only). */
  readonly starts: readonly { readonly pair: readonly [string, string]; readonly words: ReadonlySet<string> }[];
}

const pairKey = (first: string, second: string) => `${first} ${second}`;
const endsSentence = (word: string) => /[.!?]["']?$/.test(word);
const bare = (word: string) => word.toLowerCase().replace(/[^\p{L}]/gu, '');

/** Learns the chain from a text: its words are split at white space and keep their punctuation. */
export function learnMarkovChain(text: string): MarkovChain {
  const words = text.split(/\s+/).filter((word) => word !== '');
  const next = new Map<string, string[]>();
  const starts: { pair: [string, string]; words: Set<string> }[] = [];
  for (let index = 0; index + 2 < words.length; index++) {
    const [first, second, third] = [words[index]!, words[index + 1]!, words[index + 2]!];
    const key = pairKey(first, second);
    const followers = next.get(key);
    if (followers) followers.push(third);
    else next.set(key, [third]);
    if (index === 0 || endsSentence(words[index - 1]!)) starts.push({ pair: [first, second], words: new Set() });
    starts.at(-1)!.words.add(bare(first));
  }
  return { next, starts };
}

/** mulberry32: a small seeded generator of numbers in [0, 1), the same on every machine. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32;
  };
}

export interface MarkovOptions {
  /** Seeds the draws: the same seed and prompt give the same words. */
  seed: number;
  /** 0 takes the most frequent next word each time (then the seed only picks the start). */
  temperature?: number;
  /** The prompt: the answer starts at a sentence that has one of its words (of 4 letters or more), when the text has one. */
  prompt?: string;
  /** The answer ends at the first sentence end after this many words (max_tokens may end it sooner). */
  minWords?: number;
}

/**
 * The answer's tokens: words, each after the first with its leading space, until a sentence ends
 * after `minWords` words or the chain has no next word. A generator, so that a caller stops it
 * (max_tokens, stop, a client gone) without the rest being made.
 */
export function* markovWords(chain: MarkovChain, { seed, temperature = 1, prompt = '', minWords = 30 }: MarkovOptions): Generator<string> {
  const random = seededRandom(seed);
  // Short words (the, a, of) are in every sentence and say nothing of what the prompt is about.
  const promptWords = (prompt.toLowerCase().match(/\p{L}+/gu) ?? []).filter((word) => word.length >= 4);
  const related = chain.starts.filter((start) => promptWords.some((word) => start.words.has(word)));
  const candidates = related.length > 0 ? related : chain.starts;
  let [first, second] = candidates[Math.floor(random() * candidates.length)]!.pair;
  yield first;
  yield ` ${second}`;
  for (let count = 2; !(count >= minWords && endsSentence(second)); count++) {
    const followers = chain.next.get(pairKey(first, second));
    if (!followers) return;
    const word = temperature === 0 ? mostFrequent(followers) : followers[Math.floor(random() * followers.length)]!;
    yield ` ${word}`;
    [first, second] = [second, word];
  }
}

function mostFrequent(words: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  // Ties go to the word seen first in the text: Map keeps insertion order.
  return [...counts].reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
}
