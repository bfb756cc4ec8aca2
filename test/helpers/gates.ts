import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Gate files for models that wait for one (the stream fixture's `gate` input): `gate()` names a
 * file that is not there yet; the test creates it to let the model go on. `openAll()` creates
 * every gate handed out, so that no model stays held after a test; `remove()` deletes the folder.
 */
export function gateFiles(prefix: string) {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  const handedOut: string[] = [];
  let files = 0;
  return {
    scratch,
    gate(): string {
      const path = join(scratch, `gate-${++files}`);
      handedOut.push(path);
      return path;
    },
    openAll(): void {
      for (const path of handedOut.splice(0)) writeFileSync(path, '');
    },
    remove(): void {
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
