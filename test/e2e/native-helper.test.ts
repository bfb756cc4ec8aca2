// The native helper's SO_SNDBUF (native/reaper.c), which the byte stream to a worker asks for on
// both ends (src/supervisor/byte-channel.ts): the kernel grants twice the size asked for, within
// net.core.wmem_max; and its memory files (native/shared-memory.c), which large inputs reach a
// worker through (src/supervisor/shared-memory.ts). Needs the build (dist/native/reaper.node).
import { spawn } from 'node:child_process';
import { closeSync, readFileSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const helperPath = fileURLToPath(new URL('../../dist/native/reaper.node', import.meta.url));
const helper = createRequire(import.meta.url)(helperPath) as {
  setSendBufferSize(fd: number, bytes: number): number;
  createMemoryFile(name: string, length: number): number;
  mapMemoryFile(fd: number, length: number): Buffer;
  mapSharedFile(path: string, name: string, offset: number, length: number): Buffer;
};

test('setSendBufferSize enlarges a Unix socket send buffer (a child stdio pipe) and refuses a bad fd', async () => {
  const child = spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
    const asked = 4 * 1024 * 1024;
    expect(helper.setSendBufferSize(fd, asked)).toBe(2 * Math.min(asked, wmemMax));
    expect(helper.setSendBufferSize(1_000_000, asked)).toBe(-1);
    expect(() => helper.setSendBufferSize(-1, asked)).toThrow(/needs a file descriptor/);
  } finally {
    child.kill();
  }
});

test('a memory file: written with pwrite, seen through the writer mapping, mapped by name at an offset privately (writes stay in the copy), refused when the name or the length is wrong', () => {
  const name = `ai-integration-test-${process.pid}`;
  const fd = helper.createMemoryFile(name, 300_000);
  try {
    const view = helper.mapMemoryFile(fd, 300_000);
    const bytes = Buffer.alloc(100_000, 7);
    expect(writeSync(fd, bytes, 0, bytes.length, 5000)).toBe(bytes.length);
    expect([view[4999], view[5000], view[104_999], view[105_000]]).toEqual([0, 7, 7, 0]);
    const path = `/proc/${process.pid}/fd/${fd}`;
    // An offset that is not a page's start, as a multipart file's is.
    const mapped = helper.mapSharedFile(path, name, 5000, 100_000);
    expect(mapped.length).toBe(100_000);
    expect(mapped.equals(bytes)).toBe(true);
    mapped[0] = 9;
    const read = Buffer.alloc(1);
    readSync(fd, read, 0, 1, 5000);
    expect([read[0], view[5000]]).toEqual([7, 7]);
    expect(() => helper.mapSharedFile(path, 'another-name', 0, 10)).toThrow(/not the one announced/);
    expect(() => helper.mapSharedFile(path, name, 0, 300_001)).toThrow(/shorter than announced/);
    expect(() => helper.mapSharedFile(`/proc/${process.pid}/fd/999999`, name, 0, 10)).toThrow(/No such file/);
    expect(() => helper.createMemoryFile(name, -1)).toThrow(/needs a name and a length/);
  } finally {
    closeSync(fd);
  }
});
