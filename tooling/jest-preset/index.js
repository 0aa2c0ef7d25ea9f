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

// Node's own resolution (node16) has relative imports name the emitted file (`./client.js`);
// under jest the source is TypeScript, so the extension is dropped to find `./client.ts`.
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };

const common = {
  testEnvironment: 'node',
  transform,
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'json'],
};

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
    // Resolved from the package under test (it lists @shop/devstack), so this preset depends on nothing of ours.
    globalSetup: require.resolve('@shop/devstack/jest/global-setup', { paths: [process.cwd()] }),
    globalTeardown: require.resolve('@shop/devstack/jest/global-teardown', {
      paths: [process.cwd()],
    }),
  };
}

/** Both kinds, as one jest run: `jest` runs all, `jest --selectProjects unit` the fast ones. */
function service() {
  // testTimeout is a run-wide option: it has no effect inside a project.
  // forceExit: a client left open by a failed setup must fail the run, not hang CI until its timeout.
  return {
    projects: [unit(), integration()],
    testTimeout: 120_000,
    maxWorkers: 1,
    forceExit: true,
  };
}

module.exports = { unit, integration, service, transform };
