// The services run as real processes from their built dist/ (turbo builds them before `test`).
// forceExit: a client left open by a failed setup must fail the run, not hang CI until its timeout.
module.exports = {
  ...require('@shop/jest-preset').integration(),
  testTimeout: 180_000,
  maxWorkers: 1,
  forceExit: true,
};
