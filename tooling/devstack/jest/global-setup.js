// Jest global setup: one Kafka and one Postgres for the whole run (see src/test-infra.ts).
const { ensureTestInfra } = require('../dist/test-infra');

module.exports = async function globalSetup() {
  await ensureTestInfra();
};
