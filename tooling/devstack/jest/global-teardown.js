// Jest global teardown: stops what global setup started (nothing when `pnpm test` provided it).
const { teardownTestInfra } = require('../dist/test-infra');

module.exports = async function globalTeardown() {
  await teardownTestInfra();
};
