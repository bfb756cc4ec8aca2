import { describe, expect, test } from 'vitest';
import { checkResult } from '../../src/result/check-result.js';
import { plural } from '../../src/plural.js';
import { readPickle } from '../../src/pickle-reader.js';

describe('plural', () => {
  test.each([
    [0, 'inference', '0 inferences'],
    [1, 'inference', '1 inference'],
    [2, 'inference', '2 inferences'],
    [1n, 'byte', '1 byte'],
    [10n, 'byte', '10 bytes'],
  ])('plural(%s, %j) is %j', (count, noun, expected) => {
    expect(plural(count, noun)).toBe(expected);
  });

  test('an irregular plural is given in full', () => {
    expect(plural(2, 'child', 'children')).toBe('2 children');
    expect(plural(1, 'child', 'children')).toBe('1 child');
  });
});

describe('messages with a count of one', () => {
  test('a result summary: "1 byte", "1 character"', async () => {
    expect((await checkResult({ 'content-type': 'text/plain', data: 'x', success: true })).summary).toBe('text/plain, 1 byte');
    expect((await checkResult({ 'content-type': 'application/json', data: '1', success: true })).summary).toBe('application/json, 1 byte of valid JSON');
    expect((await checkResult({ 'content-type': 'image/png', data: 'x', success: true })).summary).toBe('image/png, 1 character');
  });

  test('the pickle reader: "1 byte of extra data", "deeper than 1 level"', () => {
    expect(() => readPickle(Buffer.from('N..'))).toThrow('pickle: 1 byte of extra data after the STOP opcode (at byte 2)');
    expect(() => readPickle(Buffer.from(']]a.'), { maxDepth: 1 })).toThrow('pickle: data nests deeper than 1 level');
  });
});
