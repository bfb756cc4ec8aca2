// The native helper's SO_SNDBUF (native/reaper.c), which the byte stream to a worker asks for on
// both ends (src/supervisor/byte-channel.ts): the kernel grants twice the size asked for, within
// net.core.wmem_max. Needs the build (dist/native/reaper.node).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const helperPath = fileURLToPath(new URL('../../dist/native/reaper.node', import.meta.url));
const helper = createRequire(import.meta.url)(helperPath) as { setSendBufferSize(fd: number, bytes: number): number };

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
