/**
 * The example embedding model, with no weights: feature hashing. Each word (lower-cased) adds
 * ±1 at a place its hash picks, and the vector is scaled to length 1, so texts that share words
 * point the same way and the cosine similarity of two texts grows with their shared words.
 */

/** FNV-1a, 32 bits: a fast hash that is the same on every machine. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The signed counts of a text's words (or of token ids) hashed into `dimensions` places, before scaling. */
export function hashedCounts(input: string | readonly number[], dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const features = typeof input === 'string' ? (input.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []) : input.map((token) => `#${token}`);
  for (const feature of features) {
    const hash = fnv1a(feature);
    vector[hash % dimensions]! += hash & 0x80000000 ? -1 : 1;
  }
  return vector;
}

/** The vector of a text (or of token ids), `dimensions` long, of length 1 (all zeros for no words). */
export function hashedEmbedding(input: string | readonly number[], dimensions: number): number[] {
  const vector = hashedCounts(input, dimensions);
  const length = Math.hypot(...vector);
  return length === 0 ? vector : vector.map((value) => value / length);
}
