import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Holds the next model load of test/fixtures/http-model.mjs started with `env` (HANG_START_FILE,
 * which the model waits on while it exists): `hold()` once the service is up makes the restart
 * after a throw wait until `release()`, so a test sees the restart for as long as it needs instead
 * of a START_DELAY_MS it hopes is long enough. `remove()` releases and deletes the folder.
 * @example const load = modelLoadHold(); const server = await serve({ ...load.env }); load.hold(); ...; load.release();
 */
export function modelLoadHold() {
  const dir = mkdtempSync(join(tmpdir(), 'model-load-hold-'));
  const path = join(dir, 'hold');
  return {
    env: { HANG_START_FILE: path },
    hold: () => writeFileSync(path, ''),
    release: () => rmSync(path, { force: true }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
