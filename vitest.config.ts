import { configDefaults, defineConfig } from 'vitest/config';

// Three tiers, each a project, each runnable alone (`vitest run --project <name>`, or the
// `test:<name>` scripts); `vitest run` runs all three.
//
// unit: pure code and in-process services, imported from src/ and modes/: no build, no process
// of the runtime's own. A unit file may run python3 once to write its pickles, nothing else.
const unitFiles = ['test/unit/**/*.test.ts', 'test/pickle/**/*.test.ts', 'test/readme.test.ts', 'test/docs.test.ts', 'test/deploy-files.test.ts'];
// container: podman builds docker/Dockerfile and runs the image.
const containerFiles = ['test/container/**/*.test.ts'];
// process: everything else: real processes of the built package (dist/), signals, the supervisor,
// stdin modes, the browser, Redis. A new test file outside the two lists above lands here, so no
// file is ever left out of `npm test`.
const processFiles = ['test/**/*.test.ts'];

export default defineConfig({
  test: {
    // The full run's concurrency (maxWorkers, fileParallelism) goes here, for every tier at once.
    // Tiers run side by side may not differ in maxWorkers (vitest refuses it unless each has its
    // own sequence.groupOrder). Unset, vitest takes cores - 1: one worker on the 2-core machine,
    // one file at a time. The unit tier alone waits on python3, sockets and the thread pool, so
    // two at a time halves it: 39 s with one worker, 19 s with two, 21 s with three (quiet
    // machine); `npm run test:unit` asks for two.
    // The full run: three files at a time. Process-level tests mostly wait on the processes they
    // start (a child's start-up, a socket, a signal), so on 2 cores one worker left a core idle:
    // the whole suite took 419 s of vitest with two workers and 365 s with three (all passed, load
    // about 4); with three, every test passed in three runs in a row on a fresh clone (npm test 455-458 s).
    maxWorkers: 3,
    // Google's variables on a closed loopback port for every test and the processes it starts: a
    // gs:// weights entry that a test did not point at its own fakes fails on 127.0.0.1 instead of
    // asking the real metadata server or Cloud Storage (or even their names of DNS).
    env: { GCE_METADATA_HOST: '127.0.0.1:1', STORAGE_EMULATOR_HOST: 'http://127.0.0.1:1' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: unitFiles,
          // Nothing here waits on a process or the clock, but a mode's first request imports what
          // the mode loads at first use (ajv, busboy, the OpenAPI documents), which took over 10 s
          // at a load average of 15-18 on 2 cores: 30 s still shows a hang, and no test fails
          // only because the machine is busy.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'process',
          include: processFiles,
          exclude: [...configDefaults.exclude, ...unitFiles, ...containerFiles],
          // Real processes on a slow shared machine: room, never a hang.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'container',
          include: containerFiles,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
