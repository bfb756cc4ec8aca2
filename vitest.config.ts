import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests spawn real processes; give a slow shared machine room, never a hang.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
