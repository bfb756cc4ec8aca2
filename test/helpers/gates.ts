import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './supervisor.js';

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

/**
 * The signals of a fixture model started with `env` (SIGNAL_DIR): http-model.mjs and
 * lambda-model.mjs; worker-model.mjs and cancel-model.mjs's "logged" hold only. `hold(key)` before
 * the request makes the inference whose note (or action) is `key` wait in the model until
 * `release(key)`; `started(key)` resolves once that inference has reached the model (false after
 * `limitMs`). A test waits for these events instead of sleeping for them.
 * @example const signals = modelSignals(); signals.hold('slow'); ...; expect(await signals.started('slow')).toBe(true);
 */
export function modelSignals(prefix = 'model-signals-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    env: { SIGNAL_DIR: dir },
    hold(key: string): void {
      writeFileSync(join(dir, `hold-${key}`), '');
    },
    release(key: string): void {
      rmSync(join(dir, `hold-${key}`), { force: true });
    },
    /** Polls for the model's file (a file is the one signal a model worker can give every kind of test). */
    started(key: string, limitMs = 20_000): Promise<boolean> {
      return eventually(() => existsSync(join(dir, `started-${key}`)), limitMs);
    },
    /** Lets every held inference go on and deletes the folder. */
    remove(): void {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
