module.exports = { ...require('@shop/jest-preset').unit(), forceExit: true };
