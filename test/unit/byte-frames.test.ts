import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { FrameReader, frameHeader, frameHeaderLength, type ExpectedFrame } from '../../src/supervisor/byte-frames.js';
import { streamedValueThreshold, takeLargeValues } from '../../src/supervisor/byte-channel.js';

const frame = (id: number, index: number, bytes: Buffer) => Buffer.concat([frameHeader(id, index, bytes.length), bytes]);

/** A reader with the frames announced, and what it delivered, stalled and failed with. */
function reader(frames: { id: number; index: number; bytes: Buffer }[], announce = true) {
  const delivered: { id: number; index: number; bytes: Buffer }[] = [];
  const stalls: boolean[] = [];
  const failures: Error[] = [];
  const frameReader = new FrameReader(
    (error) => failures.push(error),
    (stalled) => stalls.push(stalled),
  );
  const expected = frames.map(
    ({ id, index, bytes }): ExpectedFrame => ({ id, index, length: bytes.length, done: (received) => delivered.push({ id, index, bytes: received }) }),
  );
  if (announce) for (const each of expected) frameReader.expect(each);
  return { frameReader, delivered, stalls, failures, expected };
}

describe('FrameReader', () => {
  const frames = [
    { id: 1, index: 0, bytes: randomBytes(37) },
    { id: 1, index: 1, bytes: Buffer.alloc(0) },
    { id: 2, index: 0, bytes: randomBytes(5) },
  ];
  const stream = Buffer.concat(frames.map(({ id, index, bytes }) => frame(id, index, bytes)));

  test('the stream split in two at every offset: every frame whole, in order', () => {
    for (let offset = 0; offset <= stream.length; offset++) {
      const { frameReader, delivered, failures } = reader(frames);
      frameReader.push(stream.subarray(0, offset));
      frameReader.push(stream.subarray(offset));
      expect(failures).toEqual([]);
      expect(delivered).toEqual(frames);
    }
  });

  test('one byte at a time, and read in place (readBuffer, advance) in reads of every size from 1 to 64', () => {
    const { frameReader, delivered } = reader(frames);
    for (const byte of stream) frameReader.push(Buffer.of(byte));
    expect(delivered).toEqual(frames);

    for (let size = 1; size <= 64; size++) {
      const { frameReader, delivered, failures } = reader(frames);
      let offset = 0;
      while (offset < stream.length) {
        const into = frameReader.readBuffer()!;
        // A read never spans two frames: the buffer ends where the header or the value does.
        const count = stream.copy(into, 0, offset, Math.min(offset + size, offset + into.length));
        offset += count;
        frameReader.advance(count);
      }
      expect(failures).toEqual([]);
      expect(delivered).toEqual(frames);
      expect(frameReader.readBuffer()).toBeUndefined();
    }
  });

  test('bytes that come before their announcement are held, the stream asked to stall, and delivered once announced', () => {
    const { frameReader, delivered, stalls, expected } = reader(frames, false);
    frameReader.push(stream.subarray(0, 30));
    frameReader.push(stream.subarray(30));
    expect(delivered).toEqual([]);
    expect(stalls).toEqual([true]);
    expect(frameReader.readBuffer()).toBeUndefined();
    frameReader.expect(expected[0]!);
    // The first frame is delivered; the rest waits for its own announcement.
    expect(delivered).toEqual([frames[0]]);
    expect(stalls).toEqual([true, false, true]);
    frameReader.expect(expected[1]!);
    frameReader.expect(expected[2]!);
    expect(delivered).toEqual(frames);
    expect(frameReader.waiting).toBe(0);
  });

  test.each([
    ['a longer length than announced', frameHeader(1, 0, 38), 'request 1, value 0, 38 bytes where request 1, value 0, 37 bytes was announced'],
    ['a shorter length', frameHeader(1, 0, 36), 'request 1, value 0, 36 bytes where'],
    ['another request', frameHeader(9, 0, 37), 'request 9, value 0, 37 bytes where'],
    ['another value', frameHeader(1, 1, 37), 'request 1, value 1, 37 bytes where'],
    ['no header at all', Buffer.alloc(frameHeaderLength, 0xff), 'says nothing readable where request 1'],
  ])('a header with %s is refused once, and nothing after it is read', (_, header, message) => {
    const { frameReader, delivered, failures } = reader(frames);
    frameReader.push(Buffer.concat([header, randomBytes(100)]));
    frameReader.push(stream);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.message).toContain(message);
    expect(delivered).toEqual([]);
    expect(frameReader.readBuffer()).toBeUndefined();
  });
});

describe('takeLargeValues', () => {
  test('only binary values longer than the threshold are taken, in key order; the record itself is left whole', () => {
    const atThreshold = Buffer.alloc(streamedValueThreshold);
    const past = Buffer.alloc(streamedValueThreshold + 1);
    const view = new Uint8Array(streamedValueThreshold + 2);
    const record = { small: atThreshold, text: 'x'.repeat(streamedValueThreshold * 2), big: past, view };
    const taken = takeLargeValues(record)!;
    expect(taken.streamed).toEqual([
      { key: 'big', length: streamedValueThreshold + 1 },
      { key: 'view', length: streamedValueThreshold + 2 },
    ]);
    expect(taken.values[0]).toBe(past);
    expect(taken.values[1]).toBe(view);
    expect(Object.keys(taken.rest)).toEqual(['small', 'text', 'big', 'view']);
    expect(taken.rest).toMatchObject({ small: atThreshold, big: null, view: null });
    expect(record.big).toBe(past);
    expect(takeLargeValues({ small: atThreshold, text: 'x' })).toBeUndefined();
  });

  test('a key named __proto__ stays data', () => {
    const record = JSON.parse('{"__proto__": 1}') as Record<string, unknown>;
    Object.defineProperty(record, '__proto__', { value: Buffer.alloc(streamedValueThreshold + 1), enumerable: true });
    const taken = takeLargeValues(record)!;
    expect(taken.streamed).toEqual([{ key: '__proto__', length: streamedValueThreshold + 1 }]);
    expect(Object.getPrototypeOf(taken.rest)).toBe(Object.prototype);
    expect(Object.hasOwn(taken.rest, '__proto__')).toBe(true);
  });
});
