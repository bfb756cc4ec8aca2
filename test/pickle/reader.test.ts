import { existsSync, rmSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { PickleError, readPickle } from '../../src/pickle-reader.js';
import { makeCorpus, tag, type CorpusCase } from './corpus.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

// Written as Python 2.7's pickle writes them (checked against pickletools), since no python2 is
// installed here: its str is bytes (STRING, BINSTRING, SHORT_BINSTRING), booleans in protocol 0
// are I01/I00, and big ints are LONG with an L suffix.
const protocol0 = bytes(
  "(dp0\nS'image'\np1\nS'\\xff\\xd8\\xff\\xe0'\np2\nsS'n'\np3\nI1\nsS'big'\np4\nL18446744073709551616L\nsS'u'\np5\nV\xe9\\u20ac\np6\n" +
    "sS'flag'\np7\nI01\nsS'off'\np8\nI00\nsS'f'\np9\nF0.5\nsS'quote'\np10\nS\"it's\\n\"\np11\nsS'set'\np12\nc__builtin__\nset\np13\n((lp14\nI1\natp15\nRp16\ns.",
);
const protocol2 = Buffer.concat([
  bytes('\x80\x02}q\x00(U\x05imageq\x01U\x04\xff\xd8\xff\xe0q\x02U\x01nq\x03K\x01U\x03bigq\x04\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01'),
  bytes('U\x01uq\x05X\x05\x00\x00\x00\xc3\xa9\xe2\x82\xacq\x06U\x04flagq\x07\x88U\x01fq\x08G?\xe0\x00\x00\x00\x00\x00\x00'),
  bytes('U\x04longq\x09T\x2c\x01\x00\x00'),
  Buffer.alloc(300, 0x61),
  bytes('q\x0au.'),
]);

let corpus: CorpusCase[];
/** What CPython read from python2Pickles, tagged. */
let cpythonRead: unknown[];
const python2Pickles = [protocol0, protocol2];
beforeAll(async () => {
  ({ cases: corpus, read: cpythonRead } = await makeCorpus(python2Pickles));
});
const corpusCase = (name: string) => corpus.find((entry) => entry.name === name)!;

function refusal(data: Buffer, options?: { maxDepth?: number }): PickleError {
  try {
    readPickle(data, options);
  } catch (error) {
    expect(error).toBeInstanceOf(PickleError);
    expect((error as PickleError).message).toMatch(/^pickle: .+ \(at byte \d+\)$/);
    return error as PickleError;
  }
  throw new Error(`read without an error: ${data.toString('latin1')}`);
}

describe('readPickle on what CPython writes', () => {
  test('the corpus holds every case', () => {
    expect(corpus.map((entry) => entry.name).sort()).toEqual([
      'batches',
      'bytearray',
      'floats',
      'image',
      'ints',
      'keys',
      'nested',
      'ordered',
      'proto_keys',
      'sets',
      'shared',
      'unicode',
    ]);
  });

  for (const name of ['batches', 'bytearray', 'floats', 'image', 'ints', 'keys', 'nested', 'ordered', 'proto_keys', 'sets', 'shared', 'unicode']) {
    test.each([0, 1, 2, 3, 4, 5])(`${name}, protocol %i, decodes to what Python wrote`, (protocol) => {
      const entry = corpusCase(name);
      expect(tag(readPickle(entry.pickles[protocol]!))).toEqual(entry.expected);
    });
  }

  test.each([0, 1, 2, 3, 4, 5])('protocol %i: bytes arrive as Buffer, big ints as BigInt, sets as Set', (protocol) => {
    const image = readPickle(corpusCase('image').pickles[protocol]!) as { image: unknown };
    expect(Buffer.isBuffer(image.image)).toBe(true);
    const ints = readPickle(corpusCase('ints').pickles[protocol]!) as { values: unknown[] };
    expect(ints.values).toContain(2n ** 63n);
    expect(ints.values).toContain(-(2n ** 70n));
    expect(ints.values).toContain(Number.MAX_SAFE_INTEGER);
    const sets = readPickle(corpusCase('sets').pickles[protocol]!) as { set: unknown };
    expect(sets.set).toEqual(new Set([1, 2, 3]));
  });

  test.each([0, 1, 2, 3, 4, 5])('protocol %i: shared references stay shared', (protocol) => {
    const value = readPickle(corpusCase('shared').pickles[protocol]!) as { first: unknown; second: unknown; pair: unknown[] };
    expect(value.second).toBe(value.first);
    expect(value.pair[0]).toBe(value.first);
    expect(value.pair[1]).toBe(value.first);
  });

  test.each([0, 1, 2, 3, 4, 5])('protocol %i: OrderedDict keeps its order; __proto__ stays a plain key', (protocol) => {
    expect(Object.keys(readPickle(corpusCase('ordered').pickles[protocol]!) as object)).toEqual(['z', 'a', 'm']);
    const value = readPickle(corpusCase('proto_keys').pickles[protocol]!) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('readPickle on what Python 2 writes', () => {
  test('CPython itself reads these pickles, to what the reader reads', () => {
    expect(cpythonRead).toHaveLength(2);
    python2Pickles.forEach((data, index) => {
      expect(cpythonRead[index]).toHaveProperty('image');
      expect(tag(readPickle(data))).toEqual(cpythonRead[index]);
    });
  });

  test('protocol 0: str is bytes, unicode is text, I01 is True, L...L is a big int', () => {
    const value = readPickle(protocol0) as Record<string, unknown>;
    expect(value).toEqual({
      image: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
      n: 1,
      big: 2n ** 64n,
      u: 'é€',
      flag: true,
      off: false,
      f: 0.5,
      quote: Buffer.from("it's\n"),
      set: new Set([1]),
    });
  });

  test('protocol 2: SHORT_BINSTRING and BINSTRING are bytes, LONG1 a big int', () => {
    const value = readPickle(protocol2) as Record<string, unknown>;
    expect(value).toEqual({ image: Buffer.from([0xff, 0xd8, 0xff, 0xe0]), n: 1, big: 2n ** 64n, u: 'é€', flag: true, f: 0.5, long: Buffer.alloc(300, 0x61) });
  });
});

describe("readPickle refuses hostile pickles with the library's error", () => {
  test('a REDUCE of os.system is refused by name, and runs nothing', () => {
    const marker = '/tmp/ai-integration-pickle-pwned';
    rmSync(marker, { force: true });
    const error = refusal(bytes(`cos\nsystem\n(S'touch ${marker}'\ntR.`));
    expect(error.code).toBe('AI_ERR_PICKLE_GLOBAL');
    expect(error.message).toContain('refused global os.system');
    expect(error.offset).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  test.each([
    ['builtins.eval through STACK_GLOBAL', '\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x061+1\x94\x85R.', 'refused global builtins.eval', 20],
    ['subprocess.Popen through GLOBAL', '\x80\x02csubprocess\nPopen\n.', 'refused global subprocess.Popen', 2],
    ['a class through INST', "(ios\nsystem\nS'ls'\n.", 'refused global os.system', 1],
    ['copyreg._reconstructor', 'ccopy_reg\n_reconstructor\n.', 'refused global copy_reg._reconstructor', 0],
  ])('%s', (_name, data, message, offset) => {
    const error = refusal(bytes(data));
    expect(error.code).toBe('AI_ERR_PICKLE_GLOBAL');
    expect(error.message).toContain(message);
    expect(error.offset).toBe(offset);
  });

  test.each([
    ['OBJ of an allowed global', '(c__builtin__\nset\no.', 'OBJ (making or changing a class instance) is not supported'],
    ['NEWOBJ', '\x80\x02c__builtin__\nset\n)\x81.', 'NEWOBJ (making or changing a class instance) is not supported'],
    ['BUILD', '}}b.', 'BUILD (making or changing a class instance) is not supported'],
    ['a persistent id', 'P1\n.', 'persistent ids (PERSID) are not supported'],
    ['a binary persistent id', 'K\x01Q.', 'persistent ids (BINPERSID) are not supported'],
    ['an extension code', '\x80\x02\x82\x01.', 'extension codes (EXT1) are not supported'],
    ['an out-of-band buffer', '\x80\x05\x97.', 'out-of-band buffers (NEXT_BUFFER) are not supported'],
    ['a read-only out-of-band buffer', '\x80\x05\x98.', 'out-of-band buffers (READONLY_BUFFER) are not supported'],
    ['protocol 6', '\x80\x06N.', 'protocol 6; protocols 0 to 5 are read'],
    ['a reference cycle', ']q\x00h\x00a.', 'a reference cycle (a container that holds itself) is not plain data'],
    ['a tuple as a dict key', '}K\x01K\x02\x86K\x03s.', 'a dict key of type tuple'],
    ['a LONG of 5000 digits', `L${'9'.repeat(5000)}L\n.`, 'LONG with more than 4300 digits'],
  ])('%s is unsupported', (_name, data, message) => {
    const error = refusal(bytes(data));
    expect(error.code).toBe('AI_ERR_PICKLE_UNSUPPORTED');
    expect(error.message).toContain(message);
  });

  test.each([
    ['empty data', '', 'the data ends before the STOP opcode (truncated?) (at byte 0)'],
    ['truncated data in a frame', '\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x05ima', 'FRAME declares 16 bytes but only 8 remain (at byte 2)'],
    ['truncated data', '\x80\x02}q\x00(X\x05\x00\x00\x00ima', 'BINUNICODE declares 5 bytes but only 3 remain (at byte 6)'],
    ['a truncated text argument', 'I12', 'INT argument has no terminating newline (truncated?) (at byte 0)'],
    ['a length larger than the input', 'B\xff\xff\xff\x7fabc.', 'BINBYTES declares 2147483647 bytes but only 4 remain (at byte 0)'],
    [
      'an 8-byte length larger than the input',
      '\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff.',
      'BINBYTES8 declares 18446744073709552000 bytes but only 1 remain (at byte 2)',
    ],
    ['a negative BINSTRING length', 'T\xff\xff\xff\xff.', 'negative length -1 (at byte 0)'],
    ['a frame longer than the data', '\x80\x04\x95\x00\x10\x00\x00\x00\x00\x00\x00N.', 'FRAME declares 4096 bytes but only 2 remain (at byte 2)'],
    ['an unknown opcode', 'N\xff.', 'unknown opcode 0xff (at byte 1)'],
    ['a stack underflow', 'a.', 'stack underflow in APPEND (at byte 0)'],
    ['a pop past the MARK', 'N(a.', 'stack underflow in APPEND (at byte 2)'],
    ['a missing MARK', 'Ne.', 'APPENDS without a MARK before it (at byte 1)'],
    ['a missing MARK for TUPLE', 't.', 'TUPLE without a MARK before it (at byte 0)'],
    ['STOP with extra data', 'N.N', '1 byte of extra data after the STOP opcode (at byte 2)'],
    ['STOP with two values', 'NN.', 'STOP with a stack that does not hold exactly one value'],
    ['STOP with an open MARK', '(N.', 'STOP with a stack that does not hold exactly one value'],
    ['a memo reference to nothing', 'h\x05.', 'memo key 5 is not defined (at byte 0)'],
    ['a text memo reference to nothing', 'g7\n.', 'memo key 7 is not defined (at byte 0)'],
    ['an odd number of dict items', '}(K\x01u.', 'SETITEMS with an odd number of items (at byte 4)'],
    ['APPEND to a dict', '}K\x01a.', 'APPEND on a value that is not a list'],
    ['SETITEM on a list', ']K\x01K\x02s.', 'SETITEM on a value that is not a dict'],
    ['SETITEM on an allowed global, which is shared', 'c__builtin__\nset\nK\x01K\x02s.', 'SETITEM on a value that is not a dict (at byte 21)'],
    ['APPEND to an allowed global', 'c__builtin__\nset\nK\x01a.', 'APPEND on a value that is not a list'],
    ['REDUCE of a plain value', 'N)R.', 'REDUCE of a value that is not a callable global'],
    ['a bad INT', 'I1x\n.', 'INT argument "1x" is not an integer'],
    ['a bad FLOAT', 'Fone\n.', 'FLOAT argument "one" is not a number'],
    ['a bad STRING quote', "S'abc\n.", 'STRING argument is not a quoted string'],
    ['invalid UTF-8 in BINUNICODE', 'X\x02\x00\x00\x00\xff\xfe.', 'a string that is not valid UTF-8 (at byte 0)'],
    ['_codecs.encode of non-latin-1 text', 'c_codecs\nencode\nV\\u20ac\nVlatin1\n\x86R.', '_codecs.encode() of text that is not latin-1'],
  ])('%s is malformed', (_name, data, message) => {
    const error = refusal(bytes(data));
    expect(error.code).toBe('AI_ERR_PICKLE_MALFORMED');
    expect(error.message).toContain(message);
  });

  test('an allowed global that is never called is not plain data', () => {
    expect(refusal(bytes('c__builtin__\nset\n.')).message).toContain('the global builtins.set itself, not called, is not plain data');
    expect(refusal(bytes(']c__builtin__\nset\na.')).code).toBe('AI_ERR_PICKLE_UNSUPPORTED');
  });

  test('lists nested 100,000 levels deep are refused at the container that is too deep', () => {
    const error = refusal(bytes(`${']'.repeat(100_000)}${'a'.repeat(99_999)}.`));
    expect(error.message).toBe('pickle: data nests deeper than 1000 levels (at byte 1000)');
  });

  test('tuples nested 100,000 levels deep through MARKs are refused', () => {
    const error = refusal(bytes(`${'('.repeat(100_000)}${'t'.repeat(100_000)}.`));
    expect(error.message).toMatch(/^pickle: data nests deeper than 1000 levels/);
  });

  test('deep nesting built through the memo, after the fact, is refused too', () => {
    // Each step takes the newest list from the memo and appends a new one to it: the stack stays
    // shallow while the data grows 5000 levels deep.
    const steps: Buffer[] = [bytes(']r\x00\x00\x00\x00')];
    for (let index = 0; index < 5000; index++) {
      const get = Buffer.alloc(5);
      get.write('j', 0, 'latin1');
      get.writeUInt32LE(index, 1);
      const put = Buffer.alloc(5);
      put.write('r', 0, 'latin1');
      put.writeUInt32LE(index + 1, 1);
      steps.push(get, bytes(']'), put, bytes('a0'));
    }
    steps.push(bytes('.'));
    expect(refusal(Buffer.concat(steps)).message).toMatch(/^pickle: data nests deeper than 1000 levels/);
    expect(() => readPickle(Buffer.concat(steps), { maxDepth: 6000 })).not.toThrow();
  });
});
