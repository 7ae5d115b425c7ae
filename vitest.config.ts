import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          // Real LXD: nested launches and image copies take minutes, not seconds.
          testTimeout: 30 * 60_000,
          hookTimeout: 30 * 60_000,
          // One real LXD: the e2e files run one after another in a single worker
          // (fileParallelism is not a per-project option in Vitest 3).
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
