/**
 * Example text model with typed options: finds the most frequent words of a text. Shows each
 * option type a text model tends to need: a bounded integer, a bounded number, a choice and a
 * boolean, and a result in JSON or plain text.
 */
import { json, startLoop, text } from 'ai-integration';

// A real model would load its vocabulary or weights here, once, before startLoop.
const stopWords = new Set(
  'a an and are as at be but by for from has have he her his i in is it its of on or she that the their them they this to was were will with you your'.split(
    ' ',
  ),
);

startLoop(
  (inputs) => {
    const words = (inputs.text.match(/[\p{L}\p{N}']+/gu) ?? [])
      .map((word) => (inputs.case_sensitive ? word : word.toLowerCase()))
      .filter((word) => inputs.keep_stop_words || !stopWords.has(word.toLowerCase()));
    const counts = new Map<string, number>();
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    const keywords = [...counts]
      .map(([word, count]) => ({ word, count, share: Number((count / words.length).toFixed(4)) }))
      .filter((keyword) => keyword.share >= inputs.min_share)
      .sort((first, second) => second.count - first.count || (first.word < second.word ? -1 : 1)) // code point order: the same on every machine
      .slice(0, inputs.top);
    if (inputs.format === 'text') {
      return text(`${keywords.map((keyword) => `${keyword.word}\t${keyword.count}`).join('\n')}\n`);
    }
    return json({ words: words.length, keywords });
  },
  {
    text: { type: 'text', description: 'the text to read' },
    top: { type: 'integer', min: 1, max: 100, default: 5, description: 'how many keywords to return' },
    min_share: { type: 'number', min: 0, max: 1, default: 0, description: 'leave out words that make up less than this share of the words' },
    case_sensitive: { type: 'boolean', default: false, description: 'count "Word" and "word" apart' },
    keep_stop_words: { type: 'boolean', default: false, description: 'count words such as "the" and "of" too' },
    format: { type: 'choice', choices: ['json', 'text'], default: 'json', description: 'JSON with counts and shares, or one "word<TAB>count" line each' },
  },
  // No `output`: the format option chooses between JSON and text.
  { name: 'keywords', description: 'Finds the most frequent words of a text, leaving out words such as "the" and "of".' },
);
