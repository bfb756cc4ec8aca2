// Compiles native/reaper.c into dist/native/reaper.node with the machine's C compiler and Node's
// own headers: four system calls do not need node-gyp and Python. The addon uses Node-API only,
// so one build serves every Node version from 20 on. Where there is no compiler (or not Linux),
// the build says so and goes on: the supervisor then works without reaping orphans (it tells
// the user at start-up to run with `docker run --init`) and without ending with its parent.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const sources = ['./reaper.c', './shared-memory.c'].map((name) => new URL(name, import.meta.url).pathname);
const target = new URL('../dist/native/reaper.node', import.meta.url).pathname;
const headers = [join(process.config.variables.node_prefix ?? '/usr', 'include', 'node'), join(process.execPath, '..', '..', 'include', 'node')].find((dir) =>
  existsSync(join(dir, 'node_api.h')),
);
const compiler = process.env.CC ?? 'cc';

if (process.platform !== 'linux') {
  console.log(`native/build.mjs: skipped on ${process.platform}: orphan reaping is for Linux containers`);
} else if (!headers) {
  console.warn("native/build.mjs: WARNING: Node's headers (node_api.h) were not found; the supervisor will not reap orphaned processes");
} else {
  mkdirSync(new URL('../dist/native/', import.meta.url), { recursive: true });
  try {
    execFileSync(
      compiler,
      ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=reaper', '-DNAPI_VERSION=1', `-I${headers}`, ...sources, '-o', target],
      { stdio: 'inherit' },
    );
  } catch (error) {
    console.warn(`native/build.mjs: WARNING: ${compiler} failed (${error.message}); the supervisor will not reap orphaned processes`);
  }
}
