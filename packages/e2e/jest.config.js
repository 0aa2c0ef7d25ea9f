// The services run as real processes from their built dist/ (turbo builds them before `test`).
module.exports = {
  ...require('@shop/jest-preset').integration(),
  testTimeout: 180_000,
  maxWorkers: 1,
};
