import { describe, expect, test } from 'vitest';
import { FileGathering } from '../../src/http/file-gathering.js';

const bytes = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, index) => (index * seed + 1) % 256));

describe('FileGathering', () => {
  test('files of a body of declared length are views of one buffer, each whole', () => {
    const gathering = new FileGathering(100);
    const first = gathering.file();
    const second = gathering.file();
    first.append(bytes(10, 3));
    first.append(bytes(20, 5));
    second.append(bytes(30, 7));
    expect(first.bytes()).toEqual(Buffer.concat([bytes(10, 3), bytes(20, 5)]));
    expect(second.bytes()).toEqual(bytes(30, 7));
    expect(first.bytes().buffer).toBe(second.bytes().buffer);
    expect(first.length).toBe(30);
  });

  test('without a declared length, or past it, or interleaved, a file is gathered in chunks, still whole', () => {
    const unknown = new FileGathering(undefined).file();
    unknown.append(bytes(5, 3));
    unknown.append(bytes(6, 5));
    expect(unknown.bytes()).toEqual(Buffer.concat([bytes(5, 3), bytes(6, 5)]));

    const small = new FileGathering(8);
    const over = small.file();
    over.append(bytes(5, 3));
    over.append(bytes(6, 5));
    expect(over.bytes()).toEqual(Buffer.concat([bytes(5, 3), bytes(6, 5)]));

    const gathering = new FileGathering(100);
    const a = gathering.file();
    const b = gathering.file();
    a.append(bytes(4, 3));
    b.append(bytes(4, 5));
    a.append(bytes(4, 7));
    b.append(bytes(4, 9));
    expect(a.bytes()).toEqual(Buffer.concat([bytes(4, 3), bytes(4, 7)]));
    expect(b.bytes()).toEqual(Buffer.concat([bytes(4, 5), bytes(4, 9)]));
  });

  test('a file with no bytes is empty', () => {
    expect(new FileGathering(10).file().bytes()).toEqual(Buffer.alloc(0));
  });
});
