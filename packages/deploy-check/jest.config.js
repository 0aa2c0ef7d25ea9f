module.exports = {
  ...require('@shop/jest-preset').unit(),
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  displayName: 'deploy-check',
};
