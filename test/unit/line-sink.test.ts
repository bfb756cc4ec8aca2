// The access log's writer, in this process: every line, in order, in few writes; with a window,
// lines wait for it and go out together. What happens at a process's exit and with a reader that
// stops reading is in test/e2e/line-sink-exit.test.ts.
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { LineSink } from '../../src/http/line-sink.js';

// Every write the sink starts, seen when it starts: the file shows a write only once the thread
// pool has done it.
const started = vi.hoisted(() => [] as string[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const write = (
    fd: number,
    buffer: Buffer,
    offset: number,
    length: number,
    position: null,
    callback: (error: NodeJS.ErrnoException | null, written: number) => void,
  ) => {
    started.push(buffer.toString('utf8', offset, offset + length));
    fs.write(fd, buffer, offset, length, position, callback);
  };
  return { ...fs, write };
});

/** A fresh file and a sink writing to it, and a way to wait until the file holds `text`. */
function fileSink(gatherMs?: number) {
  const file = join(mkdtempSync(join(tmpdir(), 'line-sink-')), 'log');
  const fd = openSync(file, 'w');
  const sink = new LineSink(fd, undefined, gatherMs);
  const read = () => readFileSync(file, 'utf8');
  // The writes finish on libuv's thread pool: an event no timer of this process says.
  const holds = (text: string) => vi.waitFor(() => expect(read()).toBe(text), { timeout: 5_000, interval: 2 });
  return { sink, read, holds, close: () => closeSync(fd) };
}

describe('LineSink', () => {
  beforeEach(() => {
    started.length = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('writes every line in order, in few writes', async () => {
    const { sink, holds, close } = fileSink();
    const lines = Array.from({ length: 5000 }, (_, index) => `line ${index} ✓\n`);
    for (const line of lines) sink.write(line);
    await holds(lines.join(''));
    close();
    // The first line goes at once; the others wait for that write and go together in the next.
    expect(started).toEqual([lines[0], lines.slice(1).join('')]);
  });

  test('with gatherMs, lines wait that long for others and go out together, in order', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { sink, read, holds, close } = fileSink(1000);
    sink.write('first\n');
    await new Promise((resolve) => setImmediate(resolve));
    sink.write('second\n');
    // Nothing is written before the window ends.
    await vi.advanceTimersByTimeAsync(999);
    expect(started).toEqual([]);
    expect(read()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['first\nsecond\n']);
    vi.useRealTimers();
    await holds('first\nsecond\n');
    close();
  });
});
