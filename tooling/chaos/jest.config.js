// No global setup: the suite starts its own Kafka and Postgres (it kills and restarts them).
// The services run as real processes from their built dist/ (turbo builds them before `test:chaos`).
// forceExit: a client left open by a failed scenario must fail the run, not hang CI.
const { transform } = require('@shop/jest-preset');

module.exports = {
  displayName: 'chaos',
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The scenarios (test/), and beside them the harness's own unit tests (src/*.spec.ts).
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.test.ts'],
  testTimeout: 240_000,
  maxWorkers: 1,
  // One line per scenario, passed or failed, in the CI log.
  verbose: true,
  forceExit: true,
};
