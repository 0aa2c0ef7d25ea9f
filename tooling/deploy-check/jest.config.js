module.exports = {
  ...require('@shop/jest-preset').unit(),
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  displayName: 'deploy-check',
  // image.test.ts replays turbo prune and pnpm deploy for each service (seconds each).
  testTimeout: 120_000,
};
