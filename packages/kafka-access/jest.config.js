module.exports = require('@shop/jest-preset').unit();
