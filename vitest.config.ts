import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Compile tests shell out to nvcc; two cores on CI, so keep workers few.
    maxWorkers: 2,
  },
});
