// Shared jest settings: swc compiles TypeScript (with Nest's decorator metadata); `tsc` type-checks in build.
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
      },
      module: { type: 'commonjs' },
    },
  ],
};

const common = { testEnvironment: 'node', transform, moduleFileExtensions: ['ts', 'js', 'json'] };

/** Unit tests: beside the code as *.spec.ts, no broker, no database. */
function unit() {
  return { ...common, displayName: 'unit', roots: ['<rootDir>/src'], testMatch: ['**/*.spec.ts'] };
}

/**
 * Integration and end-to-end tests under test/, against the real Kafka and Postgres
 * that @shop/devstack starts once for the whole run (or finds already running).
 */
function integration() {
  return {
    ...common,
    displayName: 'integration',
    roots: ['<rootDir>/test'],
    testMatch: ['**/*.test.ts'],
    globalSetup: require.resolve('@shop/devstack/jest/global-setup'),
    globalTeardown: require.resolve('@shop/devstack/jest/global-teardown'),
    testTimeout: 120_000,
    maxWorkers: 1,
  };
}

/** Both kinds, as one jest run: `jest` runs all, `jest --selectProjects unit` the fast ones. */
function service() {
  return { projects: [unit(), integration()] };
}

module.exports = { unit, integration, service, transform };
