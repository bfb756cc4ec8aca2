// The README's test command on a machine where it cannot install what is missing: one line that
// names the packages and why, exit 1, before the suite.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers/run-process.js';

const script = join(repoRoot, 'scripts/system-packages.sh');
// A PATH where no package's command is found: every need is missing.
const emptyPath = mkdtempSync(join(tmpdir(), 'no-packages-'));
// (runc is also found at /usr/sbin/runc, and libc6-dev by its header, whatever the PATH.)
const commandPackages = ['chromium', 'curl', 'bsdutils', 'python3', 'procps', 'gcc', 'redis-server', 'podman'];

describe('scripts/system-packages.sh where it cannot install', () => {
  test('no apt-get: one line naming every missing package, exit 1', () => {
    const run = spawnSync('/bin/bash', [script], { env: { PATH: emptyPath }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^npm test needs these system packages, and cannot install them here \(no apt-get\): .+\. Install them \(on Debian: sudo apt-get install .+\), then run npm test again\.\n$/,
    );
    for (const name of commandPackages) expect(run.stderr).toContain(` ${name}`);
  });

  test.runIf(process.getuid?.() === 0)('not root (apt-get there): the same line says so; bench names its own command', () => {
    const withAptGet = mkdtempSync(join(tmpdir(), 'apt-only-'));
    chmodSync(withAptGet, 0o755);
    symlinkSync('/usr/bin/apt-get', join(withAptGet, 'apt-get'));
    // A copy nobody can read, wherever the repository was cloned.
    copyFileSync(script, join(withAptGet, 'system-packages.sh'));
    const run = spawnSync(
      '/usr/sbin/runuser',
      ['-u', 'nobody', '--', '/usr/bin/env', `PATH=${withAptGet}`, '/bin/bash', join(withAptGet, 'system-packages.sh'), 'bench'],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^npm run bench needs these system packages, and cannot install them here \(not root\): .* wrk .*\. Install them \(on Debian: sudo apt-get install .* wrk .*\), then run npm run bench again\.\n$/,
    );
  });
});
