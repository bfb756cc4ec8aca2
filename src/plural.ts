/**
 * A count and its noun, the noun in the plural unless the count is one, so that no message says
 * "1 inferences".
 * @example plural(1, 'inference') // '1 inference'
 * @example plural(3, 'inference') // '3 inferences'
 * @example plural(2, 'dimension', 'dimensions') // an irregular plural is given in full
 */
export function plural(count: number | bigint, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 || count === 1n ? noun : pluralNoun}`;
}
